/** Times on the Users page as an admin compares them: local date and minute, sortable by eye. Pure. */

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Epoch milliseconds as local "2025-03-07 14:05"; "–" for a time that is not one. */
export function formatDateTime(epochMs: number): string {
  const at = new Date(epochMs);
  if (!Number.isFinite(epochMs) || Number.isNaN(at.getTime())) return '–';
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}`;
}
