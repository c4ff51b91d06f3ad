"""``Authorization: Token <token>`` authentication against hashed tokens."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import HTTP_HEADER_ENCODING, authentication, exceptions

from accounts import services
from focusedroom.api.throttling import count_person_while


class HashedTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        # The header read from META (what ``get_authorization_header`` reads through ``request.headers``,
        # which builds a map of every header first): most API requests carry no token.
        header = request.META.get("HTTP_AUTHORIZATION", b"")
        parts = (header.encode(HTTP_HEADER_ENCODING) if isinstance(header, str) else header).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: use 'Authorization: Token <token>'.")
        try:
            raw = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        # A known token's person: their throttle count travels while their row is read.
        token = services.api_token_authenticate(
            raw=raw, around_person_read=lambda user_id, read: count_person_while(request, user_id=user_id, work=read)
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class HashedTokenScheme(OpenApiAuthenticationExtension):
    target_class = HashedTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`; get one from `POST /api/v1/auth/token/`.",
        }
