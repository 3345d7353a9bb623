"""ID numbers are encrypted at rest; party phone and ID numbers are masked on pages and in
the API until an allowed person asks, and every such view is recorded for admins."""

import pytest
from django.db import connection
from django.urls import reverse

from disputes.models import Party, PartyDisclosure
from tests.disputes.test_pages import file_case, login
from tests.disputes.test_pages import world as world
from tests.factories import SuperuserFactory

pytestmark = pytest.mark.django_db
ID = "11010519491231002X"


def stored_id(party: Party) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number FROM {Party._meta.db_table} WHERE id = %s", [party.pk])
        return cursor.fetchone()[0]


def test_an_id_number_is_stored_encrypted_and_read_back_in_clear(world):
    case = file_case(world)
    party = case.parties.get(side="applicant")

    raw = stored_id(party)
    assert raw.startswith("fernet:") and ID not in raw
    assert Party.objects.get(pk=party.pk).id_number == ID
    assert stored_id(party) != Party.objects.filter(pk=party.pk).values_list("id_number")[0]


def test_a_handler_sees_numbers_masked_until_asking_and_the_view_is_recorded(client, world):
    case = file_case(world)
    login(client, world, "secretary")
    url = reverse("disputes:detail", args=[case.pk])

    page = client.get(url).content.decode()
    assert ID not in page and "13912345678" not in page
    assert not PartyDisclosure.objects.exists()

    shown = client.post(
        reverse("disputes:reveal_parties", args=[case.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()

    assert ID in shown and "13912345678" in shown and 'id="parties"' in shown
    (seen,) = PartyDisclosure.objects.all()
    assert (seen.case, seen.user, seen.channel) == (case, world["users"]["secretary"], "page")
    assert ID not in client.get(url).content.decode()  # masked again on the next visit


def test_a_reader_who_may_not_see_details_is_refused_and_nothing_is_recorded(client, world):
    case = file_case(world)
    login(client, world, "judge")

    assert (
        'data-testid="reveal-parties"'
        not in client.get(reverse("disputes:detail", args=[case.pk])).content.decode()
    )
    response = client.post(reverse("disputes:reveal_parties", args=[case.pk]))

    assert response.status_code == 403
    assert ID not in response.content.decode()
    assert not PartyDisclosure.objects.exists()


def test_a_case_out_of_scope_is_not_found(client, world):
    case = file_case(world)
    login(client, world, "gridworker2")
    assert client.post(reverse("disputes:reveal_parties", args=[case.pk])).status_code == 404


def test_admins_review_the_views_read_only(client, world):
    case = file_case(world)
    login(client, world, "secretary")
    client.post(reverse("disputes:reveal_parties", args=[case.pk]))
    client.force_login(SuperuserFactory())

    listing = client.get("/admin/disputes/partydisclosure/")

    assert listing.status_code == 200 and case.number in listing.content.decode()
    disclosure = PartyDisclosure.objects.get()
    assert client.get(f"/admin/disputes/partydisclosure/{disclosure.pk}/delete/").status_code == 403
    assert client.get("/admin/disputes/partydisclosure/add/").status_code == 403
