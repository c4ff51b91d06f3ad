from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import custom_fields, gdpr_services, services, throttles, verification
from accounts.api.filters import CustomerFilter
from accounts.api.serializers import (
    BrandSerializer,
    ChannelSerializer,
    CredentialsSerializer,
    CustomerSerializer,
    CustomFieldsSerializer,
    DetailSerializer,
    EmailChangeSerializer,
    PersonSerializer,
    ProfileUpdateSerializer,
    RegisterResultSerializer,
    RegisterSerializer,
    TokenSerializer,
    VerificationRequestSerializer,
)
from accounts.models import ApiToken, Brand, Channel, Customer
from focusedroom.api.pagination import CursorPagination
from focusedroom.api.permissions import StaffModelPermissions
from focusedroom.api.throttling import ScopedRateThrottle
from focusedroom.context import RequestContext
from focusedroom.errors import ApplicationError, InvalidCredentials


class TooManyAttempts(ApplicationError):
    status_code = 429
    code = "throttled"


class AuthThrottleMixin:
    """Public auth endpoints: the default throttles plus the ``auth`` scope (``THROTTLE_AUTH``)."""

    throttle_scope = "auth"

    def get_throttles(self):
        return [*super().get_throttles(), ScopedRateThrottle()]


class TokenView(AuthThrottleMixin, APIView):
    """Obtain (POST) or revoke (DELETE) an API token."""

    def get_permissions(self):
        return [permissions.AllowAny()] if self.request.method == "POST" else [permissions.IsAuthenticated()]

    @extend_schema(request=CredentialsSerializer, responses={201: TokenSerializer}, auth=[])
    def post(self, request):
        data = CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, email=data.validated_data["email"], password=data.validated_data["password"])
        wait = getattr(request, "login_retry_after", 0)
        if wait:
            raise TooManyAttempts(
                throttles.wait_message(wait, "failed log-ins for this account or from your network"),
                extra={"retry_after": wait},
            )
        if user is None:
            raise InvalidCredentials(
                "Email or password is incorrect.", fields={"non_field_errors": ["Email or password is incorrect."]}
            )
        _, raw = services.api_token_create(user=user, name="api")
        return Response({"token": raw}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if not isinstance(request.auth, ApiToken):
            raise ApplicationError("Send the token to revoke as 'Authorization: Token <token>'.")
        services.api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterView(AuthThrottleMixin, APIView):
    """Sign up with an email and a password: always 202 with the same body, whatever the address.

    A new address gets an account and a verification link; an address that already has a
    customer record or an account gets an email saying what to do. The answer never tells which.
    """

    permission_classes = [permissions.AllowAny]

    @extend_schema(request=RegisterSerializer, responses={202: RegisterResultSerializer}, auth=[])
    def post(self, request):
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.member_signup(
            **data.validated_data, context=RequestContext.from_request(request, source="api")
        )
        return Response({"email": result.email, "detail": result.message}, status=status.HTTP_202_ACCEPTED)


class MeView(APIView):
    """The authenticated person."""

    @extend_schema(responses=PersonSerializer)
    def get(self, request):
        return Response(PersonSerializer(request.user).data)

    @extend_schema(request=ProfileUpdateSerializer, responses=PersonSerializer)
    def patch(self, request):
        data = ProfileUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.person_update_profile(
            user=request.user, data=data.validated_data, context=RequestContext.from_request(request, source="api")
        )
        return Response(PersonSerializer(user).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        """Erase my account (GDPR): personal data is pseudonymised everywhere; this cannot be undone."""
        gdpr_services.person_erase(user=request.user)
        if request.session is not None:
            request.session.flush()
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    """Staff: customers, newest first, filterable by channel, career stage, opt-in and date."""

    queryset = Customer.objects.select_related("channel")
    serializer_class = CustomerSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = CustomerFilter
    pagination_class = CursorPagination
    ordering = ("-created_at", "-id")
    ordering_fields = ["created_at"]


class ChannelViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    pagination_class = None


class BrandViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Staff: brands (tenants of loyalty programmes). The Customer.io API key is write-only."""

    queryset = Brand.objects.all()
    serializer_class = BrandSerializer
    permission_classes = [StaffModelPermissions]
    lookup_field = "slug"
    filterset_fields = ["is_active"]

    def perform_create(self, serializer):
        serializer.instance = services.brand_save(
            brand=None, data=serializer.validated_data, context=RequestContext.from_request(self.request, source="api")
        )

    def perform_update(self, serializer):
        serializer.instance = services.brand_save(
            brand=serializer.instance,
            data=serializer.validated_data,
            context=RequestContext.from_request(self.request, source="api"),
        )


class VerificationRequestView(AuthThrottleMixin, APIView):
    """Ask for a new email verification link. The answer never tells whether the address has an account."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(request=VerificationRequestSerializer, responses={202: DetailSerializer}, auth=[])
    def post(self, request):
        data = VerificationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        verification.verification_request(
            email=data.validated_data["email"], context=RequestContext.from_request(request, source="api")
        )
        return Response(
            {"detail": "If this address belongs to an account that still needs confirming, a link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


BRAND_PARAMETER = OpenApiParameter("brand", str, description="Brand slug (default: focusedroom).", required=False)


class MeCustomFieldsView(APIView):
    """My answers to a brand's custom profile fields. PUT replaces them all (fields left out are cleared)."""

    @extend_schema(parameters=[BRAND_PARAMETER], responses=CustomFieldsSerializer)
    def get(self, request):
        brand = custom_fields.brand_for_custom_fields(slug=request.query_params.get("brand"))
        answers = custom_fields.custom_fields_for(user=request.user, brand=brand)
        return Response(CustomFieldsSerializer({"brand": brand.slug, "fields": answers}).data)

    @extend_schema(
        parameters=[BRAND_PARAMETER],
        request={"application/json": {"type": "object", "additionalProperties": True}},
        responses=CustomFieldsSerializer,
    )
    def put(self, request):
        brand = custom_fields.brand_for_custom_fields(slug=request.query_params.get("brand"))
        answers = custom_fields.custom_field_values_set(user=request.user, brand=brand, values=request.data)
        return Response(CustomFieldsSerializer({"brand": brand.slug, "fields": answers}).data)


class MeEmailView(APIView):
    """Ask to change my email address: a link goes to the new address (202); it changes when the link is followed."""

    @extend_schema(request=EmailChangeSerializer, responses={202: DetailSerializer})
    def post(self, request):
        data = EmailChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new_email = services.person_email_change_request(
            user=request.user,
            new_email=data.validated_data["email"],
            context=RequestContext.from_request(request, source="api"),
        )
        return Response(
            {"detail": f"We sent a link to {new_email}. Your address changes when you follow it."},
            status=status.HTTP_202_ACCEPTED,
        )


class MeExportView(APIView):
    """All my data across FocusedRoom, as JSON (GDPR access and portability)."""

    @extend_schema(responses={200: {"type": "object", "additionalProperties": True}})
    def get(self, request):
        return Response(gdpr_services.person_export(user=request.user))
