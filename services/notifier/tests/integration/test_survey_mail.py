"""Survey e-mails: from surveys' and responses' events on RabbitMQ, to the contact person
identity names at send time, at a real SMTP server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr
from structlog.testing import capture_logs

from bibmon_common.clock import FrozenClock
from bibmon_common.contracts.reporting import ReportReady
from bibmon_common.contracts.responses import (
    ResponseReopened,
    ResponseReturned,
    ResponseSubmitted,
)
from bibmon_common.contracts.surveys import SurveyClosed, SurveyPublished, SurveyUpdated
from bibmon_common.testing.smtp import SMTPCatcher
from bibmon_common.testing.wait import eventually
from bibmon_notifier.recipients import IdentityClient, RecipientUnavailable
from bibmon_notifier.usecases import survey_mail

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

EVENTS = "notifier.events"
QUESTIONNAIRE = {
    "sections": [
        {
            "key": "leden",
            "title": "Leden",
            "questions": [{"key": "leden_totaal", "type": "integer", "label": "Aantal leden"}],
        }
    ]
}


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def to(address: str) -> Any:
    return lambda m: m["To"].addresses[0].addr_spec == address


def survey(clock: FrozenClock, participants: list[uuid.UUID], **overrides: Any) -> SurveyPublished:
    fields: dict[str, Any] = {
        "survey_id": uuid.uuid4(),
        "title": f"Bibliotheekmonitor {uuid.uuid4().hex[:6]}",
        "description": "De jaarlijkse cijfers over leden, collectie en activiteiten.",
        "mandatory": True,
        "legal_basis": "wsob",
        "opens_at": clock.now() - timedelta(hours=1),
        "closes_at": clock.now() + timedelta(days=30),
        "participants": tuple(participants),
        "questionnaire_version": 1,
        "questionnaire": QUESTIONNAIRE,
    }
    fields.update(overrides)
    return SurveyPublished(**fields)


def submitted(event: SurveyPublished, organisation_id: uuid.UUID, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "response_id": uuid.uuid5(event.survey_id, str(organisation_id)),
        "survey_id": event.survey_id,
        "organisation_id": organisation_id,
        "submission": 1,
        # Just after the survey opened (a receipt is for a submission just made).
        "submitted_at": event.opens_at + timedelta(minutes=30),
        "questionnaire_version": 1,
        "answers": {"leden_totaal": 12000},
    }
    fields.update(overrides)
    return ResponseSubmitted(**fields)


@pytest_asyncio.fixture(loop_scope="session", autouse=True)
async def earlier_surveys_closed(pool: Any, clock: FrozenClock) -> None:
    """Each test sees only its own open surveys, at the current time."""
    clock.set(datetime.now(UTC).replace(microsecond=0))
    await pool.execute("UPDATE survey SET closed_at = now() WHERE closed_at IS NULL")


@pytest.fixture
def deliver(publish: Any, jobs: Any) -> Any:
    """Publish events and wait until the notifier has processed them."""

    async def _deliver(*events: Any) -> None:
        for event in events:
            await jobs.wait_processed(EVENTS, await publish(event))

    return _deliver


@pytest.fixture
def invited(fresh_smtp: SMTPCatcher, identity: Any, clock: FrozenClock, deliver: Any) -> Any:
    """An organisation with a primary contact, invited to a new survey (the e-mail arrived).

    Returns (organisation_id, person, event); keyword arguments override the survey's facts.
    """

    async def _invited(**overrides: Any) -> tuple[uuid.UUID, dict[str, Any], SurveyPublished]:
        organisation_id = await identity.organisation()
        person = await identity.user(organisation_id, primary=True)
        event = survey(clock, [organisation_id], **overrides)
        await deliver(event)
        await fresh_smtp.wait_for(to(person["email"]))
        return organisation_id, person, event

    return _invited


async def job_count(jobs: Any, prefix: str) -> int:
    return int(
        await jobs.pool.fetchval(
            "SELECT count(*) FROM email_job WHERE idempotency_key LIKE $1", f"{prefix}%"
        )
    )


async def test_invitation_goes_to_the_survey_contact_else_the_primary_contact(
    fresh_smtp: SMTPCatcher,
    identity: Any,
    clock: FrozenClock,
    deliver: Any,
    jobs: Any,
    api: Any,
    keys: Any,
) -> None:
    with_contact, primary_only, nobody = [await identity.organisation() for _ in range(3)]
    primary = await identity.user(with_contact, primary=True)
    contact = await identity.user(with_contact, locale="en")
    fallback = await identity.user(primary_only, primary=True)
    event = survey(clock, [with_contact, primary_only, nobody])
    await identity.contact(event.survey_id, with_contact, contact["id"])

    with capture_logs() as logs:
        await deliver(event)
        english = await fresh_smtp.wait_for(to(contact["email"]))
        dutch = await fresh_smtp.wait_for(to(fallback["email"]))
        await jobs.wait_status(f"invitation:{event.survey_id}:{nobody}", "no_recipient")

    # No address or name in any log line, not even before redaction.
    for person in (primary, contact, fallback):
        assert person["email"] not in repr(logs)
        assert person["name"] not in repr(logs)
    sent_lines = [e for e in logs if e["event"] == "email.sent"]
    assert {e["user_id"] for e in sent_lines} == {str(contact["id"]), str(fallback["id"])}
    assert [e["organisation_id"] for e in logs if e["event"] == "email.no_recipient"] == [
        str(nobody)
    ]
    assert english["Subject"] == f"Invitation: please complete the survey {event.title}"
    assert english["To"].addresses[0].display_name == contact["name"]
    assert "under the Wsob data delivery regulation" in text_of(english)
    assert dutch["Subject"] == f"Uitnodiging: vul de vragenlijst {event.title} in"
    assert "Regeling gegevenslevering Wsob" in text_of(dutch)
    assert "De jaarlijkse cijfers over leden" in text_of(dutch)
    link = f"https://bibliotheekmonitor.test/vragenlijsten/{event.survey_id}"
    assert link in text_of(dutch)
    # The deadline as a Dutch date.
    assert f"{event.closes_at.astimezone().year}" in text_of(dutch)
    job = await jobs.wait_status(f"invitation:{event.survey_id}:{with_contact}", "sent")
    assert job["subject_user_id"] == contact["id"]
    assert job["locale"] == "en"
    assert job["recipient_email"] is None
    assert job["context"] is None
    sent = [
        e for e in await jobs.events("notifier.email.sent.v1") if e["email_id"] == str(job["id"])
    ]
    assert sent == [
        {
            "email_id": str(job["id"]),
            "template": "survey_invitation",
            "subject_user_id": str(contact["id"]),
        }
    ]
    # Nobody to send to: a distinct status a kb_admin finds, with the organisation's id.
    missing = await jobs.wait_status(f"invitation:{event.survey_id}:{nobody}", "no_recipient")
    admin = keys.auth("kb_admin")
    listed = await api.get("/api/notifier/emails", params={"status": "no_recipient"}, headers=admin)
    assert listed.status_code == 200
    (item,) = [i for i in listed.json()["items"] if i["id"] == str(missing["id"])]
    assert item["organisation_id"] == str(nobody)
    assert item["survey_id"] == str(event.survey_id)
    failed = [
        e for e in await jobs.events("notifier.email.failed.v1") if e["email_id"] == item["id"]
    ]
    assert failed == [
        {"email_id": item["id"], "template": "survey_invitation", "subject_user_id": None}
    ]
    await asyncio.sleep(0.3)
    assert fresh_smtp.messages_to(primary["email"]) == []
    assert len(fresh_smtp.messages) == 2

    # A kb_admin registers a contact person and sends it again.
    late = await identity.user(nobody, primary=True)
    retried = await api.post(f"/api/notifier/emails/{item['id']}/retry", headers=admin)
    assert retried.status_code == 202, retried.text
    await fresh_smtp.wait_for(to(late["email"]))


async def test_redelivered_publish_sends_no_second_invitation(
    fresh_smtp: SMTPCatcher, invited: Any, deliver: Any, jobs: Any
) -> None:
    _, person, event = await invited()

    await deliver(event)  # the same event again, under a new message id
    await asyncio.sleep(0.5)

    assert len(fresh_smtp.messages_to(person["email"])) == 1
    assert await job_count(jobs, f"invitation:{event.survey_id}") == 1


async def test_voluntary_invitation_explains_what_taking_part_brings(
    fresh_smtp: SMTPCatcher, identity: Any, clock: FrozenClock, deliver: Any
) -> None:
    organisation_id = await identity.organisation()
    person = await identity.user(organisation_id, primary=True)

    await deliver(survey(clock, [organisation_id], mandatory=False, legal_basis=None))

    text = text_of(await fresh_smtp.wait_for(to(person["email"])))
    assert "verplicht" not in text
    assert "Meedoen is vrijwillig" in text
    assert "infographic" in text
    assert "vergelijkbare omvang" in text


async def test_submission_sends_a_receipt_and_returning_sends_the_remark(
    fresh_smtp: SMTPCatcher, invited: Any, clock: FrozenClock, deliver: Any, jobs: Any
) -> None:
    organisation_id, person, event = await invited()
    fresh_smtp.clear()
    at = datetime.fromisoformat("2026-11-20T13:05:00+00:00")
    clock.set(at + timedelta(minutes=1))
    first = submitted(event, organisation_id, submitted_at=at)

    await deliver(first, first)  # the second one is a redelivery under a new message id

    receipt = await fresh_smtp.wait_for(to(person["email"]))
    assert receipt["Subject"] == f"Ontvangen: jullie antwoorden op {event.title}"
    assert "20 november 2026 om 14:05" in text_of(receipt)
    remark = "Het aantal leden lijkt hoog voor jullie omvang; klopt 12000?"
    await deliver(
        ResponseReturned(
            response_id=first.response_id,
            survey_id=event.survey_id,
            organisation_id=organisation_id,
            submission=1,
            remark=remark,
            returned_at=first.submitted_at + timedelta(days=1),
        )
    )
    returned = await fresh_smtp.wait_for(lambda m: m["Subject"].startswith("Graag aanpassen"))
    assert returned["Subject"] == f"Graag aanpassen: jullie antwoorden op {event.title}"
    assert remark in text_of(returned)
    assert f"/vragenlijsten/{event.survey_id}" in text_of(returned)
    await asyncio.sleep(0.3)
    assert len(fresh_smtp.messages_to(person["email"])) == 2
    assert await job_count(jobs, f"receipt:{first.response_id}") == 1


async def test_a_stale_submission_gets_no_receipt_but_stops_the_reminders(
    fresh_smtp: SMTPCatcher, invited: Any, clock: FrozenClock, deliver: Any, jobs: Any, ctx: Any
) -> None:
    organisation_id, person, event = await invited()
    fresh_smtp.clear()
    # Handled eight days after it was submitted (a very late replay from a parking queue).
    clock.advance(timedelta(days=8))
    await deliver(submitted(event, organisation_id, submitted_at=clock.now() - timedelta(days=8)))

    clock.set(event.closes_at - timedelta(days=1, minutes=-1))
    assert await _reminders(ctx) == 0
    await asyncio.sleep(0.5)
    assert fresh_smtp.messages_to(person["email"]) == []
    response_id = uuid.uuid5(event.survey_id, str(organisation_id))
    assert await job_count(jobs, f"receipt:{response_id}") == 0


def reminder_key(event: Any, organisation_id: uuid.UUID, days: int, closes_at: Any = None) -> str:
    deadline = int((closes_at or event.closes_at).timestamp())
    return f"reminder:{event.survey_id}:{organisation_id}:{days}:{deadline}"


async def _reminders(ctx: Any) -> int:
    """One tick of the reminder scheduler, run by hand (its loop waits an hour here)."""
    return await survey_mail.schedule_reminders(ctx.deps)


async def test_reminders_at_14_7_and_1_days_only_to_organisations_that_have_not_submitted(
    fresh_smtp: SMTPCatcher,
    identity: Any,
    clock: FrozenClock,
    deliver: Any,
    jobs: Any,
    ctx: Any,
) -> None:
    done, waiting, returned = [await identity.organisation() for _ in range(3)]
    people = {o: await identity.user(o, primary=True) for o in (done, waiting, returned)}
    event = survey(clock, [done, waiting, returned])
    closes = event.closes_at
    await deliver(event)
    await fresh_smtp.wait_for_count(3)
    again = submitted(event, returned)
    await deliver(
        submitted(event, done),
        again,
        ResponseReopened(
            response_id=again.response_id,
            survey_id=event.survey_id,
            organisation_id=returned,
            reason="correctie",
            reopened_at=again.submitted_at + timedelta(hours=1),
        ),
    )
    await fresh_smtp.wait_for_count(5)  # two receipts
    fresh_smtp.clear()

    clock.set(closes - timedelta(days=14, minutes=1))
    assert await _reminders(ctx) == 0
    for days in (14, 7, 1):
        clock.set(closes - timedelta(days=days) + timedelta(minutes=1))
        assert await _reminders(ctx) == 2
        assert await _reminders(ctx) == 0  # the next tick finds them made
        for organisation_id in (waiting, returned):
            key = reminder_key(event, organisation_id, days)
            await jobs.wait_status(key, "sent")
    clock.set(closes + timedelta(minutes=1))
    assert await _reminders(ctx) == 0

    reminders = fresh_smtp.messages_to(people[waiting]["email"])
    assert [m["Subject"] for m in reminders] == [
        f"Herinnering: vul {event.title} in vóór {_dutch_date(closes)}"
    ] * 3
    assert ["nog 14 dagen" in text_of(m) for m in reminders] == [True, False, False]
    assert "nog 1 dag:" in text_of(reminders[2])
    assert "Deelname is verplicht" in text_of(reminders[0])
    assert len(fresh_smtp.messages_to(people[returned]["email"])) == 3
    assert fresh_smtp.messages_to(people[done]["email"]) == []


def _dutch_date(when: datetime) -> str:
    from babel.dates import format_date

    from bibmon_notifier.rendering import DISPLAY_TZ

    return format_date(when.astimezone(DISPLAY_TZ), format="long", locale="nl_NL")


async def test_a_jump_past_several_reminder_moments_sends_only_the_latest(
    fresh_smtp: SMTPCatcher, invited: Any, clock: FrozenClock, jobs: Any, ctx: Any
) -> None:
    organisation_id, person, event = await invited()

    clock.set(event.closes_at - timedelta(hours=12))
    assert await _reminders(ctx) == 1

    await jobs.wait_status(reminder_key(event, organisation_id, 1), "sent")
    assert await job_count(jobs, f"reminder:{event.survey_id}") == 1
    assert len(fresh_smtp.messages_to(person["email"])) == 2


async def test_no_reminders_for_a_survey_closed_early_or_one_whose_deadline_moved(
    fresh_smtp: SMTPCatcher, identity: Any, clock: FrozenClock, deliver: Any, jobs: Any, ctx: Any
) -> None:
    organisation_id = await identity.organisation()
    await identity.user(organisation_id, primary=True)
    closed, moved = survey(clock, [organisation_id]), survey(clock, [organisation_id])
    await deliver(closed, moved)
    new_deadline = moved.closes_at + timedelta(days=20)
    facts = moved.model_dump(exclude={"questionnaire", "questionnaire_version"})
    await deliver(
        SurveyClosed(survey_id=closed.survey_id, closed_at=clock.now(), by_hand=True),
        SurveyUpdated(**{**facts, "closes_at": new_deadline}),
    )

    clock.set(moved.closes_at - timedelta(days=6))
    assert await _reminders(ctx) == 0
    clock.set(new_deadline - timedelta(days=6))
    assert await _reminders(ctx) == 1
    assert await job_count(jobs, f"reminder:{closed.survey_id}") == 0
    assert await jobs.by_key(reminder_key(moved, organisation_id, 7, new_deadline)) is not None


async def test_a_reminder_run_that_crashes_half_way_is_finished_by_the_next_run(
    fresh_smtp: SMTPCatcher, identity: Any, clock: FrozenClock, deliver: Any, jobs: Any, ctx: Any
) -> None:
    organisations = sorted([await identity.organisation() for _ in range(5)])
    people = [await identity.user(o, primary=True) for o in organisations]
    event = survey(clock, organisations)
    await deliver(event)
    await fresh_smtp.wait_for_count(5)
    clock.set(event.closes_at - timedelta(days=7) + timedelta(minutes=1))
    crash_at = reminder_key(event, organisations[2], 7)
    await jobs.pool.execute(
        f"""
        CREATE FUNCTION test_crash() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.idempotency_key = '{crash_at}' THEN
                RAISE EXCEPTION 'injected crash between organisations';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER test_crash BEFORE INSERT ON email_job
            FOR EACH ROW EXECUTE FUNCTION test_crash();
        """
    )
    try:
        with pytest.raises(Exception, match="injected crash"):
            await _reminders(ctx)
    finally:
        await jobs.pool.execute("DROP TRIGGER test_crash ON email_job; DROP FUNCTION test_crash()")
    assert await job_count(jobs, f"reminder:{event.survey_id}") == 2

    assert await _reminders(ctx) == 3

    for organisation_id, person in zip(organisations, people, strict=True):
        await jobs.wait_status(reminder_key(event, organisation_id, 7), "sent")
        assert len(fresh_smtp.messages_to(person["email"])) == 2  # invitation + one reminder
    assert await job_count(jobs, f"reminder:{event.survey_id}") == 5


async def test_concurrent_reminder_runs_create_each_reminder_once(
    fresh_smtp: SMTPCatcher, identity: Any, clock: FrozenClock, deliver: Any, jobs: Any, ctx: Any
) -> None:
    organisations = [await identity.organisation() for _ in range(6)]
    people = [await identity.user(o, primary=True) for o in organisations]
    event = survey(clock, organisations)
    await deliver(event)
    await fresh_smtp.wait_for_count(6)
    clock.set(event.closes_at - timedelta(days=14) + timedelta(minutes=1))

    created = await asyncio.gather(*(_reminders(ctx) for _ in range(3)))

    assert sum(created) == 6
    for organisation_id in organisations:
        await jobs.wait_status(reminder_key(event, organisation_id, 14), "sent")
    await asyncio.sleep(0.3)
    for person in people:
        assert len(fresh_smtp.messages_to(person["email"])) == 2


async def test_identity_down_is_retried_and_delivered_when_it_comes_back(
    fresh_smtp: SMTPCatcher, identity: Any, clock: FrozenClock, deliver: Any, jobs: Any
) -> None:
    organisation_id = await identity.organisation()
    person = await identity.user(organisation_id, primary=True)
    event = survey(clock, [organisation_id])
    key = f"invitation:{event.survey_id}:{organisation_id}"

    async with identity.down():
        await deliver(event)

        async def first_attempt_failed() -> Any:
            job = await jobs.by_key(key)
            return job if job is not None and job["attempts"] >= 1 else None

        job = await eventually(first_attempt_failed)
        assert job["status"] == "pending"
        assert "identity unreachable" in job["last_error"]

    await fresh_smtp.wait_for(to(person["email"]))
    job = await jobs.wait_status(key, "sent")
    assert job["attempts"] >= 2


async def test_a_submission_that_overtakes_its_survey_is_retried_until_the_survey_is_known(
    fresh_smtp: SMTPCatcher, identity: Any, clock: FrozenClock, publish: Any, deliver: Any
) -> None:
    organisation_id = await identity.organisation()
    person = await identity.user(organisation_id, primary=True)
    event = survey(clock, [organisation_id])

    await publish(submitted(event, organisation_id))  # before the survey's own event
    await deliver(event)

    receipt = await fresh_smtp.wait_for(lambda m: m["Subject"].startswith("Ontvangen"))
    assert receipt["To"].addresses[0].addr_spec == person["email"]


async def test_a_survey_published_late_gets_no_reminder_for_moments_already_past(
    fresh_smtp: SMTPCatcher, identity: Any, clock: FrozenClock, deliver: Any, jobs: Any, ctx: Any
) -> None:
    organisation_id = await identity.organisation()
    await identity.user(organisation_id, primary=True)
    event = survey(clock, [organisation_id], closes_at=clock.now() + timedelta(days=10))
    await deliver(event)

    clock.set(event.closes_at - timedelta(days=9))
    assert await _reminders(ctx) == 0  # the 14-day moment was before the invitation
    clock.set(event.closes_at - timedelta(days=7))
    assert await _reminders(ctx) == 1
    assert await jobs.by_key(reminder_key(event, organisation_id, 7)) is not None


async def test_a_moved_deadline_gets_its_own_reminders(
    fresh_smtp: SMTPCatcher, invited: Any, clock: FrozenClock, deliver: Any, jobs: Any, ctx: Any
) -> None:
    organisation_id, person, event = await invited()
    clock.set(event.closes_at - timedelta(days=6))
    assert await _reminders(ctx) == 1  # the 7-day reminder for the first deadline
    await jobs.wait_status(reminder_key(event, organisation_id, 7), "sent")

    new_deadline = event.closes_at + timedelta(days=10)
    facts = event.model_dump(exclude={"questionnaire", "questionnaire_version"})
    await deliver(SurveyUpdated(**{**facts, "closes_at": new_deadline}))
    assert await _reminders(ctx) == 0  # 16 days left now: nothing due
    clock.set(new_deadline - timedelta(days=6))
    assert await _reminders(ctx) == 1
    await jobs.wait_status(reminder_key(event, organisation_id, 7, new_deadline), "sent")
    reminders = [
        m for m in fresh_smtp.messages_to(person["email"]) if "Herinnering" in m["Subject"]
    ]
    assert [_dutch_date(new_deadline) in m["Subject"] for m in reminders] == [False, True]


async def test_a_deadline_nudged_by_an_hour_sends_no_reminder_at_once(
    fresh_smtp: SMTPCatcher, invited: Any, clock: FrozenClock, deliver: Any, jobs: Any, ctx: Any
) -> None:
    """The new deadline's 7-day moment passed before the move: no second "7 days" e-mail;
    the next reminder is the 1-day one of the new deadline."""
    organisation_id, person, event = await invited()
    clock.set(event.closes_at - timedelta(days=6))
    assert await _reminders(ctx) == 1
    await jobs.wait_status(reminder_key(event, organisation_id, 7), "sent")

    new_deadline = event.closes_at + timedelta(hours=1)
    facts = event.model_dump(exclude={"questionnaire", "questionnaire_version"})
    await deliver(SurveyUpdated(**{**facts, "closes_at": new_deadline}))
    assert await _reminders(ctx) == 0  # its 7-day moment (T-6d23h) was before the move
    clock.advance(timedelta(days=2))
    assert await _reminders(ctx) == 0
    clock.set(event.closes_at - timedelta(days=1, minutes=-1))  # the old 1-day moment
    assert await _reminders(ctx) == 0
    clock.set(new_deadline - timedelta(days=1, minutes=-1))
    assert await _reminders(ctx) == 1
    assert await _reminders(ctx) == 0
    await jobs.wait_status(reminder_key(event, organisation_id, 1, new_deadline), "sent")

    assert await job_count(jobs, f"reminder:{event.survey_id}") == 2
    assert await jobs.by_key(reminder_key(event, organisation_id, 7, new_deadline)) is None
    reminders = [
        m for m in fresh_smtp.messages_to(person["email"]) if "Herinnering" in m["Subject"]
    ]
    assert len(reminders) == 2
    assert "nog 1 dag:" in text_of(reminders[1])


async def test_a_close_that_overtakes_its_publication_is_not_lost(
    fresh_smtp: SMTPCatcher,
    identity: Any,
    clock: FrozenClock,
    publish: Any,
    deliver: Any,
    jobs: Any,
    ctx: Any,
) -> None:
    organisation_id = await identity.organisation()
    await identity.user(organisation_id, primary=True)
    event = survey(clock, [organisation_id])

    await publish(SurveyClosed(survey_id=event.survey_id, closed_at=clock.now(), by_hand=True))
    await deliver(event)

    async def closed() -> bool:
        closed_at = await jobs.pool.fetchval(
            "SELECT closed_at FROM survey WHERE survey_id = $1", event.survey_id
        )
        return closed_at is not None

    await eventually(closed, within=30)  # else the close was lost
    clock.set(event.closes_at - timedelta(hours=12))
    assert await _reminders(ctx) == 0


async def test_identity_answers_only_a_token_signed_with_the_shared_recipient_secret(
    identity: Any, settings: Any
) -> None:
    """The dedicated secret gets the address; the one every service holds gets 401."""
    organisation_id = await identity.organisation()
    person = await identity.user(organisation_id, primary=True)
    general = settings.service_token_secret.get_secret_value()
    assert general != settings.identity_token_secret.get_secret_value()
    posing = settings.model_copy(update={"identity_token_secret": SecretStr(general)})

    paired, impostor = IdentityClient(settings), IdentityClient(posing)
    try:
        recipient = await paired.survey_contact(uuid.uuid4(), organisation_id)
        with pytest.raises(RecipientUnavailable, match="401"):
            await impostor.survey_contact(uuid.uuid4(), organisation_id)
    finally:
        await paired.close()
        await impostor.close()

    assert recipient is not None
    assert recipient.email == person["email"]


async def test_report_ready_mails_each_organisations_survey_contact_else_primary_once(
    fresh_smtp: SMTPCatcher, identity: Any, clock: FrozenClock, deliver: Any, jobs: Any
) -> None:
    with_contact, primary_only = [await identity.organisation() for _ in range(2)]
    primary = await identity.user(with_contact, primary=True)
    contact = await identity.user(with_contact)
    fallback = await identity.user(primary_only, primary=True)
    event = survey(clock, [with_contact, primary_only])
    await identity.contact(event.survey_id, with_contact, contact["id"])
    await deliver(event)
    await fresh_smtp.wait_for(to(contact["email"]))
    await fresh_smtp.wait_for(to(fallback["email"]))
    fresh_smtp.clear()
    computed_at = clock.now()

    ready = [
        ReportReady(survey_id=event.survey_id, organisation_id=org, computed_at=computed_at)
        for org in (with_contact, primary_only)
    ]
    # The first one twice, as a second relay would send it (a new message id).
    await deliver(*ready, ready[0])

    mail = await fresh_smtp.wait_for(to(contact["email"]))
    await fresh_smtp.wait_for(to(fallback["email"]))
    assert mail["Subject"] == f"Uw rapport en infographic zijn klaar: {event.title}"
    assert f"https://bibliotheekmonitor.test/rapporten/{event.survey_id}" in text_of(mail)
    await asyncio.sleep(0.5)
    assert len(fresh_smtp.messages_to(contact["email"])) == 1
    assert len(fresh_smtp.messages_to(fallback["email"])) == 1
    assert fresh_smtp.messages_to(primary["email"]) == []
    assert await job_count(jobs, f"report_ready:{event.survey_id}") == 2


@pytest.mark.parametrize("undo", ["returned", "reopened"])
async def test_a_return_or_reopen_that_overtakes_the_submission_keeps_the_reminders(
    undo: str,
    fresh_smtp: SMTPCatcher,
    invited: Any,
    clock: FrozenClock,
    deliver: Any,
    jobs: Any,
    ctx: Any,
) -> None:
    """docs/reliability.md 7: the newer fact (not submitted any more) wins in any order."""
    organisation_id, _person, event = await invited()
    first = submitted(event, organisation_id)
    later = first.submitted_at + timedelta(days=1)
    facts = {
        "response_id": first.response_id,
        "survey_id": event.survey_id,
        "organisation_id": organisation_id,
    }
    if undo == "returned":
        overtaking: Any = ResponseReturned(
            **facts, submission=1, remark="Klopt 12000?", returned_at=later
        )
    else:
        overtaking = ResponseReopened(**facts, reason="correctie", reopened_at=later)

    await deliver(overtaking, first)

    clock.set(event.closes_at - timedelta(days=1, minutes=-1))
    assert await _reminders(ctx) == 1
    assert await jobs.by_key(reminder_key(event, organisation_id, 1)) is not None
