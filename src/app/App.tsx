// The workbench page (docs/page.md): the header across the top, the controls in a left column, and in
// the main column the step timeline, the rollouts of the shown step, the token view of the open
// trajectory, and the curves. The worker client feeds the store; this only lays out panels.

import './app.css';
import { useKeyboardShortcuts } from './keyboard';
import { Controls } from './panels/Controls';
import { Curves } from './panels/Curves';
import { Guide } from './panels/Guide';
import { Header } from './panels/Header';
import { Inspector } from './panels/Inspector';
import { Results } from './panels/Results';
import { Runs } from './panels/Runs';
import { Timeline } from './panels/Timeline';
import { TokenView } from './panels/TokenView';
import { useWorkbench } from './store';
import { ThemeStyles } from './theme';

export function App() {
  useKeyboardShortcuts();
  const tokenViewOpen = useWorkbench((state) => state.selectedTrajectory !== null);
  return (
    <div className="workbench">
      <ThemeStyles />
      <Header />
      <div className="workbench-columns">
        <aside className="workbench-controls" aria-label="Controls">
          <Controls />
        </aside>
        <main className="workbench-main">
          <Guide />
          <Timeline />
          <div className="panel panel-rollouts">
            <Inspector />
          </div>
          {tokenViewOpen && (
            <div className="panel">
              <TokenView />
            </div>
          )}
          <Curves />
          <Runs />
          <Results />
        </main>
      </div>
    </div>
  );
}
