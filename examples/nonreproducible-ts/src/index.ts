// A tiny library: the build output depends only on these bytes and the compiler.
export function greet(name: string): string {
  return `hello, ${name}`;
}

export const VERSION = '1.0.0';
