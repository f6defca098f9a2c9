/**
 * given(events).when(command).then(expected): the decider test helper.
 * `evolve` folds the given events into a state, `decide` maps the command and
 * state to the new events; `then` compares with vitest's `expect`.
 */
export function deciderSpec<S, E, C, R>(spec: {
  initial: () => S;
  evolve: (s: S, e: E) => S;
  decide: (c: C, s: S) => R;
}) {
  return {
    given(events: E[]) {
      const state = events.reduce(spec.evolve, spec.initial());
      return {
        state,
        when(command: C) {
          const result = spec.decide(command, state);
          return { result, state };
        },
      };
    },
  };
}
