"""The default gradient test of K gradient-descent runs, decided a window of iterates at a time.

Gradient descent's iterates do not depend on its stopping test (the step size is fixed for the
run), so the batch may run ahead and decide afterwards.  The test is ``core.loop``'s
``GradientScale.threshold`` at every iterate x_i of a run,

    stop at i  ⇔  ‖grad f(x_i)‖ ≤ ρ_grad(x_i),  or  Ĥ is re-estimated at x_i and
                  ‖grad f(x_i)‖ ≤ rtol · Ĥ(x_i) · ℓ_i,

where Ĥ is re-estimated (``hessian_norm_estimate``: four Lanczos steps) when no estimate exists
or when ‖grad f(x_i)‖ ≤ 8 · rtol · Ĥ_last · ℓ_i.  Near convergence this asks for an estimate at
nearly every iterate; one batched Lanczos call per iterate, for the few runs left, costs more
than the iteration itself.  Here the iterates of ``window`` iterations are recorded, the
estimates that the rule will probably ask for (runs within 9× of the threshold of their last
estimate, and the first iterate of a run without one) are computed together (batched Lanczos
calls of up to 64 columns), and the rule is then replayed exactly as ``GradientScale`` applies
it: as a table of iterates × runs (``_replay_table``: the lazy re-estimation is a causal
recurrence, solved by fixed-point iteration over the whole table), or record by record when the
runs differ between records (``_replay_rows``); an estimate the replay asks for that was not
predicted is computed then.  A run that stopped at an earlier iterate of the window is returned
at that iterate (its later iterates are discarded).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from manifoldscape.core.problem import Problem
from manifoldscape.core.result import StopReason
from manifoldscape.core.tolerance import EPSILON, SAFETY, SUBNORMAL
from manifoldscape.solvers.batched_common import (
    ColumnGeometry,
    dots,
    lanczos_estimates,
    norms,
    take,
)

__all__ = ["Decision", "DeferredGradientTest"]

_BLOCK = 64  # columns per batched Lanczos call of the prediction


class Decision(NamedTuple):
    """Run ``run`` stops at ``iteration`` with ``point``, ``gradient``, ``reason``, ``message``."""

    run: int
    iteration: int
    point: np.ndarray
    gradient: np.ndarray
    reason: StopReason
    message: str


class _Record(NamedTuple):
    iteration: int
    active: np.ndarray
    x: np.ndarray
    egrad: np.ndarray
    grad: np.ndarray
    gnorm: np.ndarray
    data: Any


def _concat(parts: list[Any]) -> Any:
    """Batch data of several column sets side by side (arrays joined on their last axis)."""
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, dict):
        keys = set.intersection(*(set(p) for p in parts))
        return {key: _concat([p[key] for p in parts]) for key in keys}
    if isinstance(first, (tuple, list)):
        return type(first)(_concat(list(group)) for group in zip(*parts, strict=True))
    return np.concatenate(parts, axis=-1)


class DeferredGradientTest:
    """The gradient test of K runs over windows of iterates (module docstring)."""

    def __init__(
        self,
        problem: Problem,
        geometry: ColumnGeometry,
        count: int,
        rtol: float,
        tolerance: float | None,
        max_iterations: int,
        window: int = 32,
    ):
        self.problem, self.geometry = problem, geometry
        self.rtol, self.tolerance = rtol, tolerance
        self.max_iterations, self.window = max_iterations, window
        self.hessian_norm = np.full(count, np.nan)  # Ĥ per run, NaN until first estimated
        self.records: list[_Record] = []

    def record(
        self,
        iteration: int,
        active: np.ndarray,
        x: np.ndarray,
        egrad: np.ndarray,
        grad: np.ndarray,
        gnorm: np.ndarray,
        data: Any,
    ) -> None:
        """The iterates ``iteration`` of the runs ``active`` (columns of x).

        Batch data made of several arrays (phase retrieval's m × K arrays) is not kept: holding
        a window of it costs fresh memory pages every window, and the few points that need it
        are evaluated afresh (``_hessian_data``); a single array is kept.
        """
        kept = data if isinstance(data, np.ndarray) else None
        self.records.append(_Record(iteration, active, x, egrad, grad, gnorm, kept))

    @property
    def due(self) -> bool:
        """Whether the window is full or the last recorded iteration is the last allowed."""
        return bool(self.records) and (
            len(self.records) >= self.window or self.records[-1].iteration >= self.max_iterations
        )

    def _hessian_data(self, x: np.ndarray, data: Any) -> Any:
        """What ``hessian_batch`` reads at the points x.

        Taken from ``data`` (their batch data), or evaluated afresh when ``data`` is None.
        """
        objective = self.problem.objective
        if data is None:
            if hasattr(objective, "prepare_hessian_batch"):
                return objective.prepare_hessian_batch(x)
            data = objective.prepare_batch(x)
        if hasattr(objective, "hessian_data_batch"):
            return objective.hessian_data_batch(x, data)
        return data

    def _estimate(self, record: _Record, columns: np.ndarray) -> np.ndarray:
        x = record.x[:, columns]
        data = self._hessian_data(x, None if record.data is None else take(record.data, columns))
        return lanczos_estimates(self.problem, self.geometry, x, record.egrad[:, columns], data)

    def _window(self, records: list[_Record]) -> tuple[np.ndarray, ...]:
        """The records' runs, gradient norms, floors ρ_grad and lengths ℓ, and their offsets.

        Side by side, record after record (floor and length as in ``GradientScale.threshold``).
        """
        offsets = np.cumsum([0] + [r.active.size for r in records])
        g = np.concatenate([r.gnorm for r in records])
        if self.geometry.sphere:
            egrad_norm = np.concatenate([norms(r.egrad) for r in records])
        else:  # ∇f = grad f on ℝⁿ
            egrad_norm = g
        floor = SAFETY * (EPSILON * (egrad_norm + g) + self.geometry.n * SUBNORMAL)
        length = np.maximum(np.sqrt(np.concatenate([dots(r.x, r.x) for r in records])), 1.0)
        return np.concatenate([r.active for r in records]), g, floor, length, offsets

    def _predicted(self, records: list[_Record], window: tuple) -> list[np.ndarray]:
        """Estimates at the iterates the replay will probably ask for (NaN elsewhere).

        The chosen columns of all records go to batched Lanczos calls of at most ``_BLOCK``
        columns each; what the Hessian reads there is taken from the records' batch data, or
        evaluated afresh where it was not kept (``record``).
        """
        active, g, floor, length, offsets = window
        h = self.hessian_norm[active]
        with np.errstate(invalid="ignore"):
            near = g <= 9.0 * self.rtol * h * length
        first = np.zeros(active.shape, dtype=bool)  # a run's first iterate in the window
        first[np.unique(active, return_index=True)[1]] = True
        chosen_all = (g > floor) & (near | (first & np.isnan(h)))
        out = [np.full(r.active.shape, np.nan) for r in records]
        if not chosen_all.any():
            return out
        sphere = self.geometry.sphere
        kept = records[0].data is not None
        picked, xs, egrads, parts = [], [], [], []
        for t in np.flatnonzero(np.add.reduceat(chosen_all, offsets[:-1]) > 0).tolist():
            record, columns = records[t], chosen_all[offsets[t] : offsets[t + 1]]
            picked.append((t, columns))
            xs.append(record.x[:, columns])
            if sphere:  # ∇f enters the Weingarten term (on ℝⁿ it is not read)
                egrads.append(record.egrad[:, columns])
            if kept:
                parts.append(take(record.data, columns))
        x_all = np.concatenate(xs, axis=1)
        egrad_all = np.concatenate(egrads, axis=1) if sphere else x_all  # unread on ℝⁿ
        data_all = _concat(parts) if kept else None
        values = np.empty(x_all.shape[1])
        for lo in range(0, x_all.shape[1], _BLOCK):
            block = slice(lo, lo + _BLOCK)
            x, egrad = x_all[:, block], egrad_all[:, block]
            data = self._hessian_data(x, None if data_all is None else take(data_all, block))
            values[block] = lanczos_estimates(self.problem, self.geometry, x, egrad, data)
        start = 0
        for t, columns in picked:
            count = len(out[t]) if columns.all() else int(np.count_nonzero(columns))
            out[t][columns] = values[start : start + count]
            start += count
        return out

    def resolve(self) -> list[Decision]:
        """Replay the rule over the recorded iterates; the runs that stop, where and why."""
        records, self.records = self.records, []
        if not records:
            return []
        window = self._window(records)
        active, g, floor, length, offsets = window
        # the first record where anything can happen: a stop, or a new estimate (until then
        # every run is in the cached branch of the rule, far above its threshold)
        if self.tolerance is not None:
            event = g <= self.tolerance
        else:
            with np.errstate(invalid="ignore"):
                h = self.hessian_norm[active]
                event = (g <= floor) | ~(g > 8.0 * self.rtol * h * length)
        iterations = np.array([r.iteration for r in records])
        events = (np.add.reduceat(event, offsets[:-1]) > 0) | (iterations >= self.max_iterations)
        if not events.any():
            return []
        first = int(np.argmax(events))
        records, start = records[first:], offsets[first]
        window = (active[start:], g[start:], floor[start:], length[start:], offsets[first:] - start)
        estimates = None
        if self.tolerance is None:
            estimates = self._predicted(records, window)
        if all(r.active is records[0].active for r in records):
            return self._replay_table(records, window, estimates)
        return self._replay_rows(records, window, estimates)

    def _decision(self, record: _Record, i: int, converged: bool, threshold: float) -> Decision:
        g = record.gnorm[i]
        if converged:
            reason = StopReason.GRADIENT_TOLERANCE
            message = f"gradient norm {g:.3e} ≤ {threshold:.3e} after {record.iteration} iterations"
        else:
            reason = StopReason.MAX_ITERATIONS
            message = f"reached {self.max_iterations} iterations (gradient norm {g:.3e})"
        return Decision(
            int(record.active[i]),
            record.iteration,
            record.x[:, i].copy(),
            record.grad[:, i].copy(),
            reason,
            message,
        )

    def _replay_table(
        self, records: list[_Record], window: tuple, estimates: list[np.ndarray] | None
    ) -> list[Decision]:
        """The replay when every record holds the same runs: the iterates as a table.

        Rows are iterates, columns runs.  The estimate in force at row t is the one of the
        last row before t that asked for one (or the run's estimate before the window), and a
        row asks for one when its gradient norm is within 8× of the threshold of the estimate
        in force: a causal recurrence, solved by fixed-point iteration on the table (after
        round k the first k rows are exact, so it ends; in practice after two or three
        rounds).  An estimate a row asks for that was not predicted is computed, and the
        rounds repeat from there.
        """
        active = records[0].active
        t_count, k = len(records), active.size
        g = window[1].reshape(t_count, k)
        maxed_rows = np.array([r.iteration >= self.max_iterations for r in records])
        rows = np.arange(t_count)[:, None]
        if self.tolerance is not None:
            threshold = np.full(g.shape, float(self.tolerance))
        else:
            floor = window[2].reshape(t_count, k)
            length = window[3].reshape(t_count, k)
            assert estimates is not None
            est = np.stack(estimates)
            h0 = self.hessian_norm[active]
            below = g <= floor
            limit = 8.0 * self.rtol * length
            scaled = self.rtol * length
            columns = np.arange(k)
            need = ~below & ~(g > limit * h0)  # a first guess: h0 in force everywhere
            while True:
                for _ in range(t_count + 1):
                    # the last row ≤ t that asked, then shifted: the estimate in force at t
                    last = np.maximum.accumulate(np.where(need, rows, -1), axis=0)
                    before = np.vstack([np.full((1, k), -1), last[:-1]])
                    held = np.where(before >= 0, est[np.maximum(before, 0), columns], h0)
                    with np.errstate(invalid="ignore"):
                        renewed = ~below & ~(g > limit * held)
                    if np.array_equal(renewed, need):
                        break
                    need = renewed
                h = np.where(need, est, held)
                relative = scaled * np.where(np.isnan(h), 0.0, h)
                threshold = np.where(below, floor, np.maximum(relative, floor))
                stop = (g <= threshold) | maxed_rows[:, None]
                first_stop = np.where(stop.any(axis=0), np.argmax(stop, axis=0), t_count)
                missing = need & np.isnan(est) & (rows <= first_stop)
                if not missing.any():
                    break
                t = int(np.argmax(missing.any(axis=1)))
                est[t, missing[t]] = self._estimate(records[t], missing[t])
            # the estimate in force after the window (runs that stopped: never read again)
            last_row = last[-1]
            self.hessian_norm[active] = np.where(
                last_row >= 0, est[np.maximum(last_row, 0), columns], h0
            )
        converged = g <= threshold
        stop = converged | maxed_rows[:, None]
        decisions = []
        for i in np.flatnonzero(stop.any(axis=0)).tolist():
            t = int(np.argmax(stop[:, i]))
            decisions.append(
                self._decision(records[t], i, bool(converged[t, i]), float(threshold[t, i]))
            )
        decisions.sort(key=lambda d: d.iteration)
        return decisions

    def _replay_rows(
        self, records: list[_Record], window: tuple, estimates: list[np.ndarray] | None
    ) -> list[Decision]:
        """The replay record by record (the runs may differ between records)."""
        stopped = np.zeros(self.hessian_norm.shape, dtype=bool)
        decisions: list[Decision] = []
        rtol = self.rtol
        offsets = window[4]
        for t, record in enumerate(records):
            active, g = record.active, record.gnorm
            floor, length = (window[i][offsets[t] : offsets[t + 1]] for i in (2, 3))
            live = ~stopped[active]
            if self.tolerance is not None:
                threshold = np.full(g.shape, float(self.tolerance))
            else:
                assert estimates is not None
                h = self.hessian_norm[active]
                below = g <= floor
                with np.errstate(invalid="ignore"):
                    cached = g > 8.0 * rtol * h * length  # False without an estimate
                need = live & ~below & ~cached
                if need.any():
                    fresh = estimates[t]
                    missing = need & np.isnan(fresh)
                    if missing.any():
                        fresh[missing] = self._estimate(record, missing)
                    h = np.where(need, fresh, h)
                    self.hessian_norm[active[need]] = h[need]
                relative = rtol * np.where(np.isnan(h), 0.0, h) * length
                threshold = np.where(below, floor, np.maximum(relative, floor))
            converged = live & (g <= threshold)
            maxed = live & ~converged & (record.iteration >= self.max_iterations)
            for i in np.flatnonzero(converged | maxed).tolist():
                decisions.append(self._decision(record, i, bool(converged[i]), float(threshold[i])))
            stopped[active[converged | maxed]] = True
        return decisions
