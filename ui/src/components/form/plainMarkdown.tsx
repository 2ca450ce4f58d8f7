/**
 * Stands in for `markdown-to-jsx/react` inside rjsf (ui/vite.config.ts aliases it here), keeping ~10 KB of markdown
 * parser out of every task page (issue 22.3 budget). Our forms never turn on `enableMarkdownInDescription/Help`;
 * rjsf itself passes only its own one-line messages (an unsupported field, a file's name and size), whose only
 * markup is `**bold**` and `code` marks: those are dropped and the text shown as it is (React escapes it).
 */
import type { ReactNode } from 'react';

export function Markdown({ children }: { children?: ReactNode; options?: unknown }) {
  return <>{typeof children === 'string' ? children.replace(/\*\*|`/g, '') : children}</>;
}

export default Markdown;
