// The dense simplex against brute-force vertex enumeration on random small LPs.
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import { solveLinearProgram } from "../theory/lp.ts";
import { seededRandom } from "../util/rng.ts";

/** Solves a small linear system by Gaussian elimination (null if singular). */
function solveSquare(A: number[][], b: number[]): number[] | null {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (Math.abs(M[p][c]) < 1e-12) return null;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => row[n] / row[i]);
}

/** min c·x over {A x <= b, lo <= x <= hi} by enumerating every vertex (n tight rows). */
function bruteForce(c: number[], rows: { a: number[]; b: number }[], lo: number[], hi: number[]) {
  const n = c.length;
  const all = [...rows];
  for (let i = 0; i < n; i++) {
    const up = new Array(n).fill(0), down = new Array(n).fill(0);
    up[i] = 1;
    down[i] = -1;
    all.push({ a: up, b: hi[i] }, { a: down, b: -lo[i] });
  }
  let best = Infinity;
  const pick = (start: number, chosen: number[]) => {
    if (chosen.length === n) {
      const x = solveSquare(chosen.map((k) => all[k].a), chosen.map((k) => all[k].b));
      if (x === null) return;
      if (all.every((r) => r.a.reduce((s, v, i) => s + v * x[i], 0) <= r.b + 1e-9)) {
        best = Math.min(best, c.reduce((s, v, i) => s + v * x[i], 0));
      }
      return;
    }
    for (let k = start; k < all.length; k++) pick(k + 1, [...chosen, k]);
  };
  pick(0, []);
  return best;
}

Deno.test("simplex matches vertex enumeration on random 2-D and 3-D LPs (incl. infeasible)", () => {
  const rand = seededRandom(11);
  let infeasibleSeen = 0, optimalSeen = 0;
  for (let trial = 0; trial < 300; trial++) {
    const n = trial % 2 === 0 ? 2 : 3;
    const lo = Array.from({ length: n }, () => -1 + rand());
    const hi = lo.map((l) => l + 0.2 + rand());
    const m = 1 + Math.floor(rand() * 6);
    const rows = Array.from({ length: m }, () => ({
      a: Array.from({ length: n }, () => 2 * rand() - 1),
      b: 1.2 * rand() - 0.6,
    }));
    const c = Array.from({ length: n }, () => 2 * rand() - 1);
    const expected = bruteForce(c, rows, lo, hi);
    const sol = solveLinearProgram({ objective: c, constraints: rows, lower: lo, upper: hi });
    if (expected === Infinity) {
      assertEquals(sol.status, "infeasible", `trial ${trial}: expected infeasible`);
      infeasibleSeen++;
    } else {
      assertEquals(sol.status, "optimal", `trial ${trial}: expected optimal ${expected}`);
      assert(Math.abs(sol.value - expected) < 1e-8, `trial ${trial}: ${sol.value} vs ${expected}`);
      for (const r of rows) {
        assert(r.a.reduce((s, v, i) => s + v * sol.x[i], 0) <= r.b + 1e-8, "minimiser infeasible");
      }
      sol.x.forEach((v, i) => assert(v >= lo[i] - 1e-12 && v <= hi[i] + 1e-12));
      optimalSeen++;
    }
  }
  assert(
    infeasibleSeen > 10 && optimalSeen > 100,
    `${infeasibleSeen} infeasible, ${optimalSeen} optimal`,
  );
});

Deno.test("simplex survives a degenerate LP (many constraints through one vertex)", () => {
  // Every row passes through (0.5, 0.5); min x + y is 1 there.
  const rows = Array.from({ length: 12 }, (_, k) => {
    const t = (Math.PI / 2) * (k / 11);
    const a = [Math.cos(t), Math.sin(t)];
    return { a: a.map((v) => -v), b: -(a[0] * 0.5 + a[1] * 0.5) };
  });
  const sol = solveLinearProgram({
    objective: [1, 1],
    constraints: rows,
    lower: [0, 0],
    upper: [1, 1],
  });
  assertEquals(sol.status, "optimal");
  assert(Math.abs(sol.value - 1) < 1e-9, `value ${sol.value}`);
});

Deno.test("simplex rejects malformed problems with clear errors", () => {
  throws(
    () => solveLinearProgram({ objective: [1], constraints: [], lower: [0], upper: [Infinity] }),
    /finite/,
  );
  throws(
    () => solveLinearProgram({ objective: [1, 1], constraints: [], lower: [0], upper: [1] }),
    /length 2/,
  );
  throws(
    () =>
      solveLinearProgram({
        objective: [1],
        constraints: [{ a: [1, 2], b: 0 }],
        lower: [0],
        upper: [1],
      }),
    /expected 1/,
  );
  assertEquals(
    solveLinearProgram({ objective: [1], constraints: [], lower: [1], upper: [0] }).status,
    "infeasible",
  );
});
