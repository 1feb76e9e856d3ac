// What the page says about its link: the fields a link gave that could not be used (each one named
// with its value and allowed range, the field left at its default), and a button that copies the
// link to the run shown.

import { memo, useEffect, useMemo, useState, type CSSProperties } from 'react';
import { useWorkbench } from '../store';
import { linkWithCharts } from '../chartChoice';
import { linkToConfig } from '../urlConfig';

// Inline so that the notice needs no stylesheet of its own; the colours are the header's warning.
const NOTICE_STYLE: CSSProperties = {
  margin: '10px 10px 0',
  padding: '6px 10px',
  border: '1px solid #e0c080',
  borderRadius: 6,
  background: '#fdf7e8',
  color: '#5a3d00',
};

/** The problems of the link the page was opened with, until dismissed; nothing when there are none. */
export function LinkNotice({ problems }: { problems: readonly string[] }) {
  const [dismissed, setDismissed] = useState(false);
  if (dismissed || problems.length === 0) return null;
  return (
    <aside aria-label="Link problems" style={NOTICE_STYLE}>
      <p style={{ margin: 0 }}>This link has values the page cannot use; those fields start at their defaults:</p>
      <ul style={{ margin: '4px 0' }}>
        {problems.map((problem, i) => (
          <li key={i}>{problem}</li>
        ))}
      </ul>
      <button type="button" onClick={() => setDismissed(true)}>
        Dismiss
      </button>
    </aside>
  );
}

/** How long "Link copied" shows before the button reads "Copy link" again, in ms. */
const COPIED_MS = 2000;

/** Copies the link to the current run's config (live changes included) to the clipboard. */
/** Memoised: the header re-renders every step, the link changes only with the config. */
export const CopyLinkButton = memo(function CopyLinkButton() {
  const config = useWorkbench((state) => state.config);
  const charts = useWorkbench((state) => state.charts);
  const [outcome, setOutcome] = useState<'copied' | 'failed' | null>(null);
  useEffect(() => {
    if (outcome === null) return;
    const timer = setTimeout(() => setOutcome(null), COPIED_MS);
    return () => clearTimeout(timer);
  }, [outcome]);

  const link = useMemo(() => linkWithCharts(linkToConfig(config, window.location), charts), [config, charts]);
  const copy = () => {
    // No clipboard (an insecure origin, an old browser): the address bar carries the same link.
    if (!navigator.clipboard) return setOutcome('failed');
    navigator.clipboard.writeText(link).then(
      () => setOutcome('copied'),
      () => setOutcome('failed'),
    );
  };
  return (
    <button type="button" onClick={copy} title={link}>
      {outcome === 'copied' ? 'Link copied' : outcome === 'failed' ? 'Copy failed: use the address bar' : 'Copy link'}
    </button>
  );
});
