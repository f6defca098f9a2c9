import { deepStrictEqual } from 'node:assert/strict';

/** A decider as emmett defines one: the state is a fold of events, a command decides new ones. */
export interface Decider<State, Command, Event, Out = Event[]> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State): Out;
}

export interface Then<Out> {
  /** The answer equals `expected` (deep), or passes the `check` given (which asserts itself). */
  then(expected: Out | ((out: Out) => void)): void;
  /** `decide` throws; `check` may look at the error. */
  thenThrows(check?: (err: unknown) => void): void;
}

/**
 * given(events).when(command).then(answer), like emmett's
 * `DeciderSpecification`. Every `then` also decides twice on the same state
 * and requires the same answer: a decider is pure.
 */
export const DeciderSpecification = {
  for<State, Command, Event, Out>(d: Decider<State, Command, Event, Out>) {
    return (given: readonly Event[]) => ({
      when(command: Command): Then<Out> {
        const fold = () => given.reduce((s, e) => d.evolve(s, e), d.initialState());
        return {
          then(expected) {
            const state = fold();
            const out = d.decide(command, state);
            deepStrictEqual(d.decide(command, state), out, 'decide gave another answer for the same state: it is not pure');
            if (typeof expected === 'function') (expected as (o: Out) => void)(out);
            else deepStrictEqual(out, expected);
          },
          thenThrows(check) {
            let threw = false;
            try {
              d.decide(command, fold());
            } catch (err) {
              threw = true;
              check?.(err);
            }
            if (!threw) throw new Error('expected decide to throw, and it answered');
          },
        };
      },
    });
  },
};
