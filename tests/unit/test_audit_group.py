"""Group commit of audit records (rp_api.audit_group), on a stand-in for the statement: who appends what, when a
group fails, when calls are cancelled, and that the turn always goes on."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from rp_api import audit_group
from rp_api.audit_group import AuditGroupCommit


@dataclass
class Statements:
    """Stands in for ``append_now``: each call is one statement on one call's connection (the session stands for
    the call); a record named in ``failing`` fails any statement that holds it; ``gate`` holds statements back."""

    failing: set[str] = field(default_factory=set)
    gate: asyncio.Event | None = None
    tickets: asyncio.Semaphore | None = None
    """When set, each statement waits for a ticket: the test lets them through one by one."""
    sent: list[tuple[Any, tuple[str, ...]]] = field(default_factory=list)

    async def __call__(self, session: Any, records: Sequence[Any]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.tickets is not None:
            await self.tickets.acquire()
        if self.failing & set(records):
            raise RuntimeError("statement failed")
        self.sent.append((session, tuple(records)))

    def written(self) -> list[str]:
        return [record for _, records in self.sent for record in records]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Statements:
    stand_in = Statements()
    monkeypatch.setattr(audit_group, "append_now", stand_in)
    return stand_in


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def held_first(statements: Statements, group: AuditGroupCommit) -> asyncio.Task[None]:
    """The group's first call, held in its statement until ``statements.gate`` opens."""
    statements.gate = asyncio.Event()
    first = asyncio.create_task(group.append("call-1", ["a"]))
    await settle()
    return first


async def test_a_call_alone_appends_at_once_on_its_own_connection(statements: Statements) -> None:
    await AuditGroupCommit().append("call-1", ["a", "b"])
    assert statements.sent == [("call-1", ("a", "b"))]


async def test_calls_that_arrive_while_a_group_is_written_go_together_in_the_next_statement(
    statements: Statements,
) -> None:
    group = AuditGroupCommit()
    first = await held_first(statements, group)
    others = [asyncio.create_task(group.append(f"call-{n}", [f"r{n}"])) for n in range(2, 7)]
    await settle()
    assert statements.sent == []  # the first statement is still on its way; the others wait
    statements.gate.set()
    await asyncio.gather(first, *others)
    # one statement for the first call, then one for the five that waited, on the connection of the first of them
    assert statements.sent == [("call-1", ("a",)), ("call-2", ("r2", "r3", "r4", "r5", "r6"))]
    assert all(task.done() and task.exception() is None for task in others)


async def test_a_group_holds_at_most_max_records_the_rest_waits_its_turn(statements: Statements) -> None:
    group = AuditGroupCommit(max_records=4)
    first = await held_first(statements, group)
    others = [asyncio.create_task(group.append(f"call-{n}", [f"r{n}a", f"r{n}b"])) for n in range(2, 6)]
    big = asyncio.create_task(group.append("call-big", [f"big{i}" for i in range(9)]))  # more than a group: alone
    await settle()
    statements.gate.set()
    await asyncio.gather(first, *others, big)
    assert [session for session, _ in statements.sent] == ["call-1", "call-2", "call-4", "call-big"]
    assert [len(records) for _, records in statements.sent] == [1, 4, 4, 9]
    assert sorted(statements.written()) == sorted(
        ["a", *(f"r{n}{x}" for n in range(2, 6) for x in "ab"), *(f"big{i}" for i in range(9))]
    )


async def test_when_a_group_fails_each_call_appends_alone_and_only_the_failing_call_fails(
    statements: Statements,
) -> None:
    group = AuditGroupCommit()
    first = await held_first(statements, group)
    statements.failing = {"bad"}
    calls = {n: asyncio.create_task(group.append(f"call-{n}", ["bad" if n == 4 else f"r{n}"])) for n in range(2, 7)}
    await settle()
    statements.gate.set()
    await first
    await asyncio.gather(*calls.values(), return_exceptions=True)
    assert isinstance(calls[4].exception(), RuntimeError)
    assert all(calls[n].exception() is None for n in calls if n != 4)
    # each good call's records written once, on its own connection; the bad one's never
    assert sorted(statements.written()) == ["a", "r2", "r3", "r5", "r6"]
    assert {session for session, records in statements.sent if records != ("a",)} == {
        "call-2",
        "call-3",
        "call-5",
        "call-6",
    }


async def test_a_call_cancelled_while_it_waits_leaves_nothing_and_the_others_go_on(statements: Statements) -> None:
    group = AuditGroupCommit()
    first = await held_first(statements, group)
    leaving = asyncio.create_task(group.append("call-2", ["gone"]))
    staying = asyncio.create_task(group.append("call-3", ["kept"]))
    await settle()
    leaving.cancel()
    await settle()
    statements.gate.set()
    await asyncio.gather(first, staying)
    assert leaving.cancelled()
    assert statements.written() == ["a", "kept"]


async def test_a_leader_cancelled_mid_statement_lets_the_statement_end_and_tells_its_group_what_it_did(
    statements: Statements,
) -> None:
    group = AuditGroupCommit()
    statements.tickets = asyncio.Semaphore(0)
    first = asyncio.create_task(group.append("call-1", ["a"]))
    await settle()
    second = asyncio.create_task(group.append("call-2", ["b"]))  # leads the next group, with the third
    third = asyncio.create_task(group.append("call-3", ["c"]))
    await settle()
    statements.tickets.release()  # the first statement only
    await first
    await settle()  # the second call leads now, held in its statement
    second.cancel()
    await settle()
    assert not second.done()  # it waits for its statement, which goes on
    statements.tickets.release()
    await third  # told that the group's statement wrote its records: nothing appended again
    await asyncio.gather(second, return_exceptions=True)
    assert second.cancelled()
    with pytest.raises(audit_group.AppendedThenCancelled):
        second.result()
    assert statements.sent == [("call-1", ("a",)), ("call-2", ("b", "c"))]
    statements.tickets = None
    await asyncio.wait_for(group.append("call-4", ["d"]), 1)  # nobody holds the turn
    assert statements.written()[-1] == "d"
    assert group.idle


async def test_a_leader_cancelled_whose_statement_fails_lets_its_group_append_alone(statements: Statements) -> None:
    group = AuditGroupCommit()
    statements.tickets = asyncio.Semaphore(0)
    statements.failing = {"bad"}
    first = asyncio.create_task(group.append("call-1", ["a"]))
    await settle()
    second = asyncio.create_task(group.append("call-2", ["bad"]))  # leads the next group, with the third
    third = asyncio.create_task(group.append("call-3", ["c"]))
    await settle()
    statements.tickets.release()
    await first
    await settle()  # the second leads, held in its statement
    second.cancel()
    await settle()
    assert not second.done()
    statements.tickets.release()  # the group's statement fails...
    await settle()
    statements.tickets.release()  # ...and the third appends alone
    await asyncio.wait_for(third, 1)
    await asyncio.gather(second, return_exceptions=True)
    assert second.cancelled()
    assert statements.sent == [("call-1", ("a",)), ("call-3", ("c",))]  # on the third's own connection
    assert group.idle


async def test_a_call_cancelled_just_as_its_turn_came_passes_the_turn_on(
    statements: Statements, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = AuditGroupCommit()
    statements.gate = asyncio.Event()
    leader = asyncio.create_task(group.append("call-x", ["x"]))
    await settle()
    told_its_turn = asyncio.create_task(group.append("call-y", ["y"]))
    await settle()
    pass_turn = group._pass_turn

    def pass_and_cancel() -> None:  # the waiting call is told its turn, then cancelled before it runs
        pass_turn()
        told_its_turn.cancel()

    monkeypatch.setattr(group, "_pass_turn", pass_and_cancel)
    statements.gate.set()
    await leader
    await asyncio.gather(told_its_turn, return_exceptions=True)
    assert told_its_turn.cancelled()
    monkeypatch.setattr(group, "_pass_turn", pass_turn)
    await asyncio.wait_for(group.append("call-z", ["z"]), 1)  # the turn was not lost with it
    assert statements.written() == ["x", "z"]
