"""The customer's side of "more information", on SQLite and PostgreSQL: a handler's request
shown on the customer's pages and API, answered in words or with files (several at once, sent
with the form, without JavaScript), and the case back in its queue. Only the journey's owner
sees or answers; answering twice, empty or unusable answers and wrong files are refused with
a clear 4xx and change nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cases_kit import audit_of, case_of, journey_events, referred, riley
from journey_api import CSRF_HEADER, jpeg_bytes, pdf_bytes, png_bytes

from wayline.store import cases, documents, tables

PARKED = "Where was the car parked?"
PLATE = "Upload a photo of the other car's number plate"


@pytest.fixture
def asked(components, jordan):
    """Jordan's referred claim, claimed by Riley, who asks where the car was parked and for a
    photo of the other car's plate: (journey id, case id, question task, upload task)."""
    journey_id = referred(components, jordan)
    case_id = case_of(components, journey_id)["id"]
    components.cases.claim(riley(), case_id)
    question = components.cases.request_information(riley(), case_id, code="parked_where")
    upload = components.cases.request_information(riley(), case_id, code="other_plate")
    return journey_id, case_id, question.id, upload.id


def _documents(components, journey_id: str) -> list[dict[str, Any]]:
    """The journey's documents as the store reads them (file names opened)."""
    with components.store.read() as connection:
        return list(documents.listed(connection, journey_id).values())


def _task_rows(components, journey_id: str) -> dict[str, dict[str, Any]]:
    with components.store.read() as connection:
        rows = connection.execute(
            tables.case_tasks.select().where(tables.case_tasks.c.journey_id == journey_id)
        ).all()
    return {row.id: dict(row._mapping) for row in rows}


def _unchanged(components, journey_id: str):
    """A snapshot of what an answer could change: tasks, documents, events, the case."""
    return (
        _task_rows(components, journey_id),
        len(_documents(components, journey_id)),
        len(journey_events(components, journey_id)),
        case_of(components, journey_id)["status"],
    )


def _form(api, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": api.http.headers[CSRF_HEADER], **fields}


# --- the API ---------------------------------------------------------------------------------


def test_the_api_lists_open_requests_without_who_asked_or_why(jordan, asked):
    journey_id, _case, question, upload = asked
    response = jordan.http.get(f"/api/v1/journeys/{journey_id}/tasks")
    assert response.status_code == 200
    tasks = {task["id"]: task for task in response.json()}
    assert tasks[question]["prompt"] == PARKED and tasks[question]["kind"] == "question"
    assert tasks[upload]["accept"] == ["image/jpeg", "image/png", "image/heic"]
    assert "requested_by" not in tasks[question] and "riley" not in response.text


def test_another_customer_is_told_the_journey_does_not_exist(sam, asked):
    journey_id, _case, question, upload = asked
    assert sam.http.get(f"/api/v1/journeys/{journey_id}/tasks").status_code == 404
    answer = sam.http.post(f"/api/v1/journeys/{journey_id}/tasks/{question}", json={"answer": "x"})
    assert answer.status_code == 404
    sent = sam.http.post(
        f"/api/v1/journeys/{journey_id}/tasks/{upload}/documents",
        files={"file": ("plate.png", png_bytes(), "image/png")},
    )
    assert sent.status_code == 404
    assert sam.http.get(f"/journeys/{journey_id}/tasks/{question}").status_code == 404


def test_a_question_answered_through_the_api_puts_the_case_back_once_both_are_done(
    components, jordan, asked
):
    journey_id, case_id, question, upload = asked
    url = f"/api/v1/journeys/{journey_id}/tasks"
    response = jordan.http.post(f"{url}/{question}", json={"answer": " In the car park "})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["answer"]) == ("answered", "In the car park")
    assert case_of(components, journey_id)["status"] == "awaiting_customer"  # one still open
    document = jordan.http.post(
        f"{url}/{upload}/documents", files={"file": ("plate.jpg", jpeg_bytes(), "image/jpeg")}
    )
    assert document.status_code == 201, document.text
    assert document.json()["task"] == upload and document.json()["content_type"] == "image/jpeg"
    done = jordan.http.post(f"{url}/{upload}", json={"documents": [document.json()["id"]]})
    assert done.status_code == 200, done.text
    assert done.json()["documents"] == [document.json()["id"]]
    assert case_of(components, journey_id)["status"] == "open"
    assert case_of(components, journey_id)["assignee"] == "riley"
    assert jordan.http.get(url).json() == []
    received = [
        e for e in audit_of(components, case_id) if e["action"] == "case.information_received"
    ]
    assert [e["actor"] for e in received] == ["jordan", "jordan"]


def test_answering_twice_is_a_conflict_that_changes_nothing(components, jordan, asked):
    journey_id, _case, question, _upload = asked
    url = f"/api/v1/journeys/{journey_id}/tasks/{question}"
    assert jordan.http.post(url, json={"answer": "In the car park"}).status_code == 200
    before = _unchanged(components, journey_id)
    again = jordan.http.post(url, json={"answer": "Somewhere else"})
    assert again.status_code == 409
    assert again.json()["detail"] == "This request has already been answered"
    assert _unchanged(components, journey_id) == before


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"answer": "   "}, "answer", 422),
        ({}, "answer", 422),
        ({"answer": "In the\x00car park"}, "answer", 422),
        ({"answer": "In the\x1bcar park"}, "answer", 422),
        ({"answer": "x" * 5001}, "answer", 422),
        ({"answer": 42}, "answer", 422),
        ({"answer": "ok", "extra": 1}, "extra", 422),
    ],
    ids=["blank", "missing", "nul", "escape", "too long", "a number", "unknown key"],
)
def test_an_unusable_answer_is_refused_naming_the_field(
    components, jordan, asked, body, field, status
):
    journey_id, _case, question, _upload = asked
    before = _unchanged(components, journey_id)
    response = jordan.http.post(f"/api/v1/journeys/{journey_id}/tasks/{question}", json=body)
    assert response.status_code == status, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert _unchanged(components, journey_id) == before


def test_wrong_files_for_an_upload_request_are_refused_and_nothing_is_kept(
    components, jordan, asked
):
    journey_id, _case, question, upload = asked
    url = f"/api/v1/journeys/{journey_id}/tasks"
    before = _unchanged(components, journey_id)
    pdf = jordan.http.post(
        f"{url}/{upload}/documents", files={"file": ("plate.pdf", pdf_bytes(), "image/png")}
    )
    assert pdf.status_code == 422 and "JPEG" in pdf.json()["detail"]
    to_question = jordan.http.post(
        f"{url}/{question}/documents", files={"file": ("plate.png", png_bytes(), "image/png")}
    )
    assert to_question.status_code == 422
    assert jordan.http.post(f"{url}/{upload}", json={"documents": []}).status_code == 422
    foreign = jordan.http.post(f"{url}/{upload}", json={"documents": ["not-one-of-yours"]})
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "documents"
    words = jordan.http.post(f"{url}/{upload}", json={"answer": "here it is"})
    assert words.status_code == 422
    unknown = jordan.http.post(f"{url}/no-such-task", json={"answer": "x"})
    assert unknown.status_code == 404
    assert _unchanged(components, journey_id) == before


def test_a_request_is_no_longer_answerable_once_the_claim_is_decided(components, jordan, asked):
    journey_id, case_id, question, _upload = asked
    components.cases.decide(riley(), case_id, "decline", "no_evidence")
    assert jordan.http.get(f"/api/v1/journeys/{journey_id}/tasks").json() == []
    late = jordan.http.post(f"/api/v1/journeys/{journey_id}/tasks/{question}", json={"answer": "x"})
    assert late.status_code == 409


# --- the pages ---------------------------------------------------------------------------------


def test_the_status_page_and_the_list_say_we_need_more_information(jordan, asked):
    journey_id, _case, question, upload = asked
    status = jordan.http.get(f"/journeys/{journey_id}/status")
    assert "We need more information" in status.text
    assert f'href="/journeys/{journey_id}/tasks/{question}">{PARKED}</a>' in status.text
    assert f"/journeys/{journey_id}/tasks/{upload}" in status.text
    listed = jordan.http.get("/journeys")
    assert f'href="/journeys/{journey_id}/status">We need more information' in listed.text


def test_a_question_page_asks_the_prompt_and_takes_the_answer(components, jordan, asked):
    journey_id, _case, question, _upload = asked
    page = jordan.http.get(f"/journeys/{journey_id}/tasks/{question}")
    assert page.status_code == 200
    assert re.search(
        r'<label class="label label-l" for="answer">Where was the car parked\?</label>', page.text
    )
    assert '<textarea class="textarea" id="answer" name="answer"' in page.text
    sent = jordan.http.post(
        f"/journeys/{journey_id}/tasks/{question}",
        data=_form(jordan, answer="Outside my house"),
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/journeys/{journey_id}/tasks/{question}/answered"
    thanks = jordan.http.get(sent.headers["location"])
    assert "Thank you" in thanks.text and "We still need more information" in thanks.text
    assert _task_rows(components, journey_id)[question]["answer"].startswith("wl1:")  # sealed
    with components.store.read() as connection:
        answered = {task.id: task for task in cases.tasks_of_journey(connection, journey_id)}
    assert answered[question].answer == "Outside my house"
    again = jordan.http.get(f"/journeys/{journey_id}/tasks/{question}")
    assert again.status_code == 409 and "already been answered" in again.text


def test_an_empty_answer_on_the_page_shows_the_error_and_changes_nothing(components, jordan, asked):
    journey_id, _case, question, _upload = asked
    before = _unchanged(components, journey_id)
    page = jordan.http.post(
        f"/journeys/{journey_id}/tasks/{question}", data=_form(jordan, answer="  ")
    )
    assert page.status_code == 422
    assert '<a href="#answer">Enter your answer</a>' in page.text
    assert 'id="answer-error"' in page.text and page.text.count("<title>Error: ") == 1
    long = jordan.http.post(
        f"/journeys/{journey_id}/tasks/{question}", data=_form(jordan, answer="y" * 6000)
    )
    assert long.status_code == 422 and "5,000 characters or fewer" in long.text
    assert "y" * 6000 in long.text  # what was typed is kept to be shortened
    assert _unchanged(components, journey_id) == before


def test_several_files_sent_with_the_form_answer_an_upload_request(components, jordan, asked):
    journey_id, case_id, question, upload = asked
    page = jordan.http.get(f"/journeys/{journey_id}/tasks/{upload}")
    assert 'type="file" multiple accept="image/jpeg,image/png,image/heic"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    sent = jordan.http.post(
        f"/journeys/{journey_id}/tasks/{upload}",
        data=_form(jordan),
        files=[
            ("files", ("front.png", png_bytes(), "image/png")),
            ("files", ("back.jpg", jpeg_bytes(), "image/jpeg")),
        ],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    answered = _task_rows(components, journey_id)[upload]
    kept = {
        d["id"]: d for d in _documents(components, journey_id) if d["field"] == f"task:{upload}"
    }
    assert sorted(answered["documents"]) == sorted(kept)
    assert sorted(d["filename"] for d in kept.values()) == ["back.jpg", "front.png"]
    assert case_of(components, journey_id)["status"] == "awaiting_customer"  # the question
    jordan.http.post(f"/journeys/{journey_id}/tasks/{question}", data=_form(jordan, answer="Home"))
    assert case_of(components, journey_id)["status"] == "open"
    assert "We need more information" not in jordan.http.get(f"/journeys/{journey_id}/status").text


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "Select a file to upload"),
        ([("files", ("estimate.pdf", pdf_bytes(), "application/pdf"))], "must be a JPEG"),
        (
            [
                ("files", ("front.png", png_bytes(), "image/png")),
                ("files", ("tool.exe", b"MZ" + b"\x00" * 200, "image/png")),
            ],
            "tool.exe: ",
        ),
    ],
    ids=["none", "a PDF", "one bad among good"],
)
def test_wrong_files_on_the_page_show_the_error_and_nothing_is_kept(
    components, jordan, asked, files, message
):
    journey_id, _case, _question, upload = asked
    before = _unchanged(components, journey_id)
    page = jordan.http.post(
        f"/journeys/{journey_id}/tasks/{upload}",
        data=_form(jordan),
        files=files or [("files", ("", b"", "application/octet-stream"))],
    )
    assert page.status_code == 422, page.text
    assert message in page.text and '<a href="#files">' in page.text
    assert _unchanged(components, journey_id) == before


@pytest.mark.parametrize(
    "fields",
    [
        {"answer": "x", "files": "a-document-id"},
        {"answer": "x", "revision": "1"},
    ],
    ids=["a field the page does not have", "a step's field"],
)
def test_a_tampered_form_is_refused(components, jordan, asked, fields):
    journey_id, _case, question, _upload = asked
    before = _unchanged(components, journey_id)
    page = jordan.http.post(
        f"/journeys/{journey_id}/tasks/{question}", data=_form(jordan, **fields)
    )
    assert page.status_code == 400
    assert _unchanged(components, journey_id) == before


def test_a_page_post_without_the_csrf_token_is_refused(components, jordan, asked):
    journey_id, _case, question, _upload = asked
    before = _unchanged(components, journey_id)
    page = jordan.http.post(f"/journeys/{journey_id}/tasks/{question}", data={"answer": "x"})
    assert page.status_code == 403
    assert _unchanged(components, journey_id) == before


def test_the_confirmation_of_a_request_still_open_goes_back_to_its_page(jordan, asked, sam):
    journey_id, _case, question, _upload = asked
    url = f"/journeys/{journey_id}/tasks/{question}/answered"
    back = jordan.http.get(url, follow_redirects=False)
    assert back.status_code == 303
    assert back.headers["location"] == f"/journeys/{journey_id}/tasks/{question}"
    assert sam.http.get(url).status_code == 404
