"""The admin shows instructions, their recipients and their record, and changes nothing."""

from django.urls import reverse

from instructions import services


def test_it_shows_instructions_read_only_in_the_admin(client, world, django_assert_max_num_queries):
    instruction = world.send()
    services.instruction_ack(instruction=instruction, actor=world.workers[0])
    client.force_login(world.admin)
    for name in ("instruction", "instructionrecipient"):
        with django_assert_max_num_queries(12):
            response = client.get(reverse(f"admin:instructions_{name}_changelist"))
        assert response.status_code == 200
        assert client.get(reverse(f"admin:instructions_{name}_add")).status_code == 403
    page = client.get(reverse("admin:instructions_instruction_change", args=[instruction.pk]))
    assert page.status_code == 200
    assert "王书记" in page.content.decode()  # the sender, in the record
    assert 'name="_save"' not in page.content.decode()
