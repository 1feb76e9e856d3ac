// Whether an element is on screen or near it, for work worth doing only there (a group's cards,
// a chart's redraw).

import { useEffect, useState, type RefObject } from 'react';

/**
 * Whether `element` is within `marginPx` (above or below) of the visible part of `root`, or of
 * the viewport without one. Without IntersectionObserver (jsdom), everything counts as near.
 */
export function useNear(element: RefObject<HTMLElement | null>, marginPx: number, root?: RefObject<HTMLElement | null>): boolean {
  const [near, setNear] = useState(typeof IntersectionObserver === 'undefined');
  useEffect(() => {
    if (typeof IntersectionObserver === 'undefined' || !element.current) return;
    const observer = new IntersectionObserver((entries) => setNear(entries.some((entry) => entry.isIntersecting)), {
      root: root?.current ?? null,
      rootMargin: `${marginPx}px 0px`,
    });
    observer.observe(element.current);
    return () => observer.disconnect();
  }, [element, marginPx, root]);
  return near;
}
