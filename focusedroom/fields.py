"""Model fields shared by the apps."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt_value(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt_value(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """Text encrypted at rest with Fernet (key from ``FIELD_ENCRYPTION_KEY``).

    Python code sees clear text; the column holds only the Fernet token. Keys rotate by
    listing the new key first: old tokens still decrypt. Not searchable by design.
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return decrypt_value(value)
        except InvalidToken as exc:
            raise ValueError(
                f"{self.model.__name__}.{self.name} cannot be decrypted: FIELD_ENCRYPTION_KEY has changed."
            ) from exc

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_value(value)
