// The names an ES module exports (`export const|let|function|class NAME`, `export { a as b }`), read from its
// source: what a plugin's stand-in for that module must export too. esbuild refuses a bundle whose import names
// an export the stand-in lacks, so a dependency's update that adds one fails the build, not the function.
export function exportedNames(source: string): string[] {
  const declared = [...source.matchAll(/^export (?:const|let|var|function\*?|async function|class) (\w+)/gm)].map((m) => m[1]!);
  const listed = [...source.matchAll(/^export \{([^}]*)\}(?! from)/gm)].flatMap((m) =>
    m[1]!
      .split(',')
      .map((part) => part.trim().split(/\s+as\s+/).at(-1)!)
      .filter(Boolean),
  );
  return [...new Set([...declared, ...listed])];
}
