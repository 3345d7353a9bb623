"""The whole API, fuzzed from its own OpenAPI schema (schemathesis, property-based): every
operation, with generated valid and invalid input, as three people of different reach (a
grid worker, a community secretary, street-centre staff). Not one answer may be a server
error. Bounded: FUZZ_EXAMPLES examples per operation (CI uses the default), derandomized, so
a run is repeatable."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from disputes import services
from disputes.demo import seed_categories
from disputes.models import Category, Channel
from grid_governance.wsgi import application
from grids.demo import seed as seed_demo
from grids.models import Area, User
from tests.security.db import module_transaction

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
ROLES = ("gridworker", "secretary", "street")

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


@pytest.fixture(scope="module")
def tokens(django_db_setup, django_db_blocker):
    """The demo district with one case, and a token for each role; rolled back at the end."""
    with module_transaction(django_db_blocker):
        seed_demo()
        seed_categories()
        worker = User.objects.get(username="gridworker")
        services.case_file(
            actor=worker, area=Area.objects.filter(level="micro_grid").first()
            or Area.objects.filter(level="grid").first(),
            category=Category.objects.filter(parent__isnull=False).first(),
            cause="楼上漏水", address="民生路12号", channel=Channel.GRID_WORKER,
            parties=[{"side": "applicant", "name": "李秀英", "phone": "13912345678"}],
        )  # fmt: skip
        yield {
            role: Token.objects.get_or_create(user=User.objects.get(username=role))[0].key
            for role in ROLES
        }


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The real WSGI handler closes the database connection when a request ends; inside
    the test's transaction that would end it for every later request (Django's own test
    client disconnects this handler the same way)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_no_operation_answers_with_a_server_error(case, tokens):
    for role, key in tokens.items():
        response = case.call(app=application, headers={"Authorization": f"Token {key}"})
        assert response.status_code < 500, (
            f"{role}: {case.method} {case.formatted_path} → {response.status_code}\n"
            f"{case.as_curl_command()}\n{response.text[:500]}"
        )
