"""The list of supervision cards (督办卡) a person may see, per unit and state: the page and
the API. Thin: the selector scopes the cards through their cases (visible_to)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics

from common.api import error_responses

from .apis import CasePagination
from .models import Case
from .supervision_inputs import CardSerializer
from .supervision_models import SupervisionCard

PAGE_SIZE = 30
STATES = ("open", "late", "answered")


def cards_for(user, *, state: str = "", colour: str = ""):
    cards = SupervisionCard.objects.filter(
        case__in=Case.objects.visible_to(user).values("pk")
    ).select_related("case", "area", "issued_by")
    if state == "open":
        cards = cards.filter(replied_at__isnull=True)
    elif state == "late":
        cards = cards.filter(replied_late=True)
    elif state == "answered":
        cards = cards.filter(replied_at__isnull=False)
    if colour in SupervisionCard.Colour.values:
        cards = cards.filter(colour=colour)
    return cards.order_by("-issued_at", "-pk")


@login_required
def card_list(request):
    state = request.GET.get("state", "open")
    state = state if state in STATES else ""
    colour = request.GET.get("colour", "")
    cards = cards_for(request.user, state=state, colour=colour)
    page = Paginator(cards, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "state": state,
        "colour": colour,
        "colours": SupervisionCard.Colour.choices,
        "query": f"state={state}&colour={colour}",
    }
    return render(request, "disputes/supervision.html", context)


@extend_schema_view(
    get=extend_schema(
        operation_id="supervision_cards_list",
        tags=["cases"],
        summary="Supervision cards on the cases I may see, newest first",
        parameters=[
            OpenApiParameter("state", str, enum=list(STATES)),
            OpenApiParameter("colour", str, enum=list(SupervisionCard.Colour.values)),
        ],
        responses={200: CardSerializer(many=True), **error_responses(403)},
    )
)
class CardListApi(generics.ListAPIView):
    serializer_class = CardSerializer
    pagination_class = CasePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SupervisionCard.objects.none()
        params = self.request.query_params
        return cards_for(
            self.request.user, state=params.get("state", ""), colour=params.get("colour", "")
        )
