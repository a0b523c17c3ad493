"""The Pension Wise booking simulator over HTTP: 10am on the third working day, booked once
per key."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox_kit import faults, key, post

from wayline.sandbox.working_days import add_working_days


def test_an_appointment_is_at_10am_on_the_third_working_day_and_booked_once(partner) -> None:
    client = partner("pension_wise")
    book_key = key()
    first = post(client, "/appointments", {"customer_id": "sam"}, book_key)
    assert first.status_code == 201
    booking = first.json()
    assert booking["booking_reference"] == "PW-100001"
    expected = add_working_days(datetime.now(UTC).date(), 3)
    assert booking["appointment_at"] == f"{expected.isoformat()}T10:00:00+00:00"
    assert post(client, "/appointments", {"customer_id": "sam"}, book_key).json() == booking
    other = post(client, "/appointments", {"customer_id": "alex"}, book_key)
    assert other.status_code == 409
    assert client.get("/appointments/PW-100002").status_code == 404
    assert client.get(f"/appointments/{booking['booking_reference']}").json() == booking


def test_a_booking_lost_after_the_work_is_found_by_its_key(partner) -> None:
    client = partner("pension_wise")
    book_key = key()
    faults(client, error_rate=1.0, after_effect_share=1.0)
    assert post(client, "/appointments", {"customer_id": "sam"}, book_key).status_code == 502
    faults(client)
    again = post(client, "/appointments", {"customer_id": "sam"}, book_key)
    assert again.status_code == 200 and again.json()["booking_reference"] == "PW-100001"
