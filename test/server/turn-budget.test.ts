// The turn budget: requests run at once while the loop's turn has time left, then in later turns, in
// the order they arrived, behind any already waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TurnBudget } from '../../src/server/turn-budget.js';

/** A clock the test moves: each request "takes" the time it is given. */
function harness(sliceMs: number) {
  let clock = 0;
  let turn = 0;
  let ticking = true;
  // Counts the loop's turns: one tick per check phase.
  const tick = () => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const budget = new TurnBudget(sliceMs, () => clock);
  const ran: { name: string; turn: number }[] = [];
  const request = (name: string, takesMs: number, then?: () => void) =>
    budget.admit(() => {
      ran.push({ name, turn });
      clock += takesMs;
      then?.();
    });
  const stop = () => (ticking = false);
  return { request, ran, stop };
}

test('requests run at once while the turn has time left', () => {
  const h = harness(1);
  h.request('a', 0.3);
  h.request('b', 0.3);
  h.request('c', 0.3);
  h.stop();
  assert.deepEqual(h.ran.map((r) => r.name), ['a', 'b', 'c'], 'all three ran before admit returned');
});

test('past the budget, requests wait for later turns and run in the order they came', async () => {
  const h = harness(1);
  h.request('a', 2);
  h.request('b', 2);
  h.request('c', 2);
  assert.deepEqual(h.ran.map((r) => r.name), ['a'], 'b and c were put off');
  for (let i = 0; i < 10 && h.ran.length < 3; i++) await nextTurn();
  h.stop();
  assert.deepEqual(h.ran.map((r) => r.name), ['a', 'b', 'c']);
  // b had the next turn to itself (it took the whole budget), so c ran in a turn after b's.
  assert.ok(h.ran[2]!.turn > h.ran[1]!.turn, `c ran in turn ${h.ran[2]!.turn}, b in ${h.ran[1]!.turn}`);
});

test('a newcomer goes behind the requests already waiting, even when its turn has time left', async () => {
  const h = harness(1);
  h.request('a', 2);
  // b runs in a later turn and, while it runs, d arrives with c still waiting.
  h.request('b', 2, () => h.request('d', 0));
  h.request('c', 0);
  for (let i = 0; i < 10 && h.ran.length < 4; i++) await nextTurn();
  h.stop();
  assert.deepEqual(h.ran.map((r) => r.name), ['a', 'b', 'c', 'd']);
});

test('a new turn brings a new budget', async () => {
  const h = harness(1);
  // a spends more than the whole budget; b, in a later turn with nobody waiting, still runs at once.
  h.request('a', 2);
  await nextTurn();
  await nextTurn();
  h.request('b', 0.5);
  h.stop();
  assert.deepEqual(h.ran.map((r) => r.name), ['a', 'b'], 'b ran at once in its own turn');
});
