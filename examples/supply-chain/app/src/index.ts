// greeter: the sample app custody's demo builds, signs and ships (examples/supply-chain).
export interface Greeting {
  readonly to: string;
  readonly text: string;
}

/** A greeting for `name`; blank names greet the world. */
export function greet(name: string): Greeting {
  const to = name.trim() === '' ? 'world' : name.trim();
  return { to, text: `hello, ${to}` };
}

export const VERSION = '1.0.0';
