// @vitest-environment jsdom
// The link notice (src/app/panels/LinkNotice.tsx): a link's problems listed until dismissed, and
// the button that copies the link to the current run.

import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/core/config';
import { CopyLinkButton, LinkNotice } from '../../src/app/panels/LinkNotice';
import { useWorkbench } from '../../src/app/store';

const pristine = useWorkbench.getState();

beforeEach(() => useWorkbench.setState({ ...pristine, send: vi.fn() }, true));
afterEach(cleanup);

describe('LinkNotice', () => {
  const problems = [
    'learningRate: 5 is out of range (must be a number in (0, 0.1]); the default 0.0003 is used.',
    'nonsense: not a config field; "1" is ignored.',
  ];

  it('lists each problem of the link until dismissed', () => {
    render(<LinkNotice problems={problems} />);
    const notice = screen.getByRole('complementary', { name: 'Link problems' });
    expect(within(notice).getAllByRole('listitem').map((item) => item.textContent)).toEqual(problems);
    fireEvent.click(within(notice).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('complementary', { name: 'Link problems' })).toBeNull();
  });

  it('shows nothing for a link without problems', () => {
    const { container } = render(<LinkNotice problems={[]} />);
    expect(container.innerHTML).toBe('');
  });
});

describe('CopyLinkButton', () => {
  it("copies the link to the run's config, live changes included", async () => {
    const writeText = vi.fn(async (_text: string) => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    window.history.replaceState(null, '', '/?backend=wasm');
    useWorkbench.setState({ config: resolveConfig({ preset: 'grpo', seed: 5, learningRate: 0.001 }) });

    render(<CopyLinkButton />);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Copy link' })));
    expect(writeText).toHaveBeenCalledWith(`${window.location.origin}/?preset=grpo&seed=5&learningRate=0.001&backend=wasm`);
    expect(screen.getByRole('button', { name: 'Link copied' })).toBeTruthy();
  });
});
