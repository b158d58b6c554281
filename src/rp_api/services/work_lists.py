"""Work lists (listes de travail): the requests and registration forms that wait for the caller's organisation.

Membership is the item's addressees (work routing); every line's person is then checked again with the caller's
current links through the person guard (one audit record per person; a line the caller may no longer see is left
out, and that denial is recorded), each form through its own readability rule, and each line shows what the
caller's role may see of the item — without health data, which the item itself shows to those who may see it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api import cursors
from rp_api.authz.person_guard import PersonGuard
from rp_api.domain import work_lists as rules
from rp_api.domain.policy import Action
from rp_api.problems import INVALID_INPUT, BadRequest, InputIssue, MissingPermission
from rp_api.repositories import work_lists as repository
from rp_api.repositories.addressees import REGISTRATION_FORM, REQUEST
from rp_api.repositories.work_lists import Window
from rp_api.schemas.work_list import (
    FormLine,
    FormWorkList,
    FormWorkListQuery,
    PhysicianQuestionLine,
    RequestLine,
    RequestWorkList,
    RequestWorkListQuery,
    WorkListPerson,
)
from rp_api.services import registration_forms
from rp_api.services import requests as request_service

QUERY_REQUESTS = "queryRequests"
QUERY_FORMS = "queryRegistrationForms"


def _window(query: RequestWorkListQuery | FormWorkListQuery, scope: str) -> Window:
    """The filters both work lists share, and the page, checked: 400 for a cursor we did not issue (``scope``: the
    list and the caller's organisation) or days out of order."""
    created_from, created_to = query.created_from, query.created_to
    if not rules.dates_in_order(created_from, created_to):
        raise BadRequest([InputIssue(INVALID_INPUT, "createdTo is before createdFrom", None, "body", "createdTo")])
    after = None
    if query.page is not None:
        updated_at, item_id = cursors.unseal(
            query.page, datetime.fromisoformat, uuid.UUID, scope=scope, where="body", name="page"
        )
        after = (updated_at, item_id)
    start, end = rules.created_between(created_from, created_to)
    return Window(
        changed_since=query.changed_since,
        created_from=start,
        created_before=end,
        after=after,
        limit=query.page_size + 1,
    )


async def persons_of(guard: PersonGuard, ssins: Iterable[str]) -> dict[str, WorkListPerson]:
    """Each granted person with the name the National Register gives (in memory already: the access decision
    needed it). A source failing here leaves that name out: the access was decided, the line is shown."""
    return {
        ssin: WorkListPerson(ssin=ssin)
        if registered is None
        else WorkListPerson(ssin=ssin, given_name=registered.given_name, family_name=registered.family_name)
        for ssin, registered in (await guard.registered(ssins)).items()
    }


L = TypeVar("L", RequestLine, FormLine)


def _line(line: type[L], view: BaseModel, omit: frozenset[str], **more: Any) -> L:
    """The view as a line: the same fields as they were set (an unset field stays absent from the answer), without
    those in ``omit``, with ``more``. Built without validating again what the view validated."""
    values = {
        name: value for name, value in view.__dict__.items() if name in view.model_fields_set and name not in omit
    }
    values.update(more)
    return line.model_construct(set(values), **values)


def _form_line(view: BaseModel, person: WorkListPerson) -> FormLine:
    question = getattr(view, "physician_question", None)
    more: dict[str, Any] = {"person": person}
    omit = rules.LINE_OMITS_FORM | {"physician_question"}
    if question is not None:
        kept = {name: getattr(question, name) for name in rules.LINE_FORM_QUESTION_KEEPS if getattr(question, name)}
        if kept:
            more["physician_question"] = PhysicianQuestionLine(**kept)
    return _line(FormLine, view, omit, **more)


async def _granted(
    guard: PersonGuard, people: list[tuple[str, str]], *, operation: str, resource_type: str, audited: bool
) -> dict[str, WorkListPerson]:
    """The page's persons the caller may see now, each re-checked and recorded (``audited`` off, benchmarks only:
    every one, unchecked), with their names, by the SSIN the line names; a line under a replaced SSIN shows the
    person under their current one."""
    current: dict[str, str] = (
        {
            ssin: access.ssin
            for ssin, access in (
                await guard.sift(people, Action.CONSULT_DOSSIER, operation=operation, resource_type=resource_type)
            ).items()
        }
        if audited
        else {ssin: ssin for ssin, _ in people}
    )
    named = await persons_of(guard, current.values())
    return {ssin: named[now] for ssin, now in current.items()}


async def query_requests(
    session: AsyncSession, guard: PersonGuard, query: RequestWorkListQuery, self_link: str, *, audited: bool = True
) -> RequestWorkList:
    """One page of the requests addressed to the caller's organisation. ``audited`` off (benchmarks only): the page
    as it would be built without the re-check and the audit."""
    principal = guard.principal
    scope = cursors.scope(QUERY_REQUESTS, principal.enterprise_number)
    window = _window(query, scope)
    if query.queue is not None and not rules.may_ask_requests(
        query.queue, principal.organisation_type, principal.roles
    ):
        raise MissingPermission(f"Your role may not ask for the queue {query.queue}")
    wanted = rules.request_filter(query.status, query.type, query.queue)
    rows = (
        []
        if wanted.matches_nothing
        else await repository.request_page(session, principal.enterprise_number, wanted, window)
    )
    more = len(rows) > query.page_size
    rows = rows[: query.page_size]
    people = [(ssin, str(request.id)) for request, ssin, _ in rows]
    persons = await _granted(guard, people, operation=QUERY_REQUESTS, resource_type=REQUEST, audited=audited)
    items = [
        _line(
            RequestLine, request_service.view(guard, request, decision), rules.LINE_OMITS_REQUEST, person=persons[ssin]
        )
        for request, ssin, decision in rows
        if ssin in persons
    ]
    last = rows[-1][0] if more and rows else None
    return RequestWorkList(
        items=items,
        self_=self_link,
        next=cursors.seal(last.updated_at, last.id, scope=scope) if last is not None else None,
    )


async def query_forms(
    session: AsyncSession, guard: PersonGuard, query: FormWorkListQuery, self_link: str, *, audited: bool = True
) -> FormWorkList:
    """One page of the registration forms addressed to the caller's organisation that it may read."""
    principal = guard.principal
    scope = cursors.scope(QUERY_FORMS, principal.enterprise_number)
    window = _window(query, scope)
    if query.queue is not None and not rules.may_ask_forms(query.queue, principal.organisation_type, principal.roles):
        raise MissingPermission(f"Your role may not ask for the queue {query.queue}")
    wanted = rules.form_filter(query.status, query.routing, query.queue)
    rows = (
        []
        if wanted.matches_nothing
        else await repository.form_page(
            session,
            principal.enterprise_number,
            wanted,
            window,
            readable_when_not_creator=rules.readable_form_statuses(principal.organisation_type),
        )
    )
    more = len(rows) > query.page_size
    rows = rows[: query.page_size]
    people = [(ssin, str(form.id)) for form, ssin in rows]
    persons = await _granted(guard, people, operation=QUERY_FORMS, resource_type=REGISTRATION_FORM, audited=audited)
    items = [
        _form_line(registration_forms.view(guard, form), persons[ssin])
        for form, ssin in rows
        # The form's own rule has the last word (drafts are their creator's; a regional service reads valid forms).
        if ssin in persons and registration_forms.readable_by(form, principal)
    ]
    last = rows[-1][0] if more and rows else None
    return FormWorkList(
        items=items,
        self_=self_link,
        next=cursors.seal(last.updated_at, last.id, scope=scope) if last is not None else None,
    )
