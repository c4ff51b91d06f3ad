"""Pagination for every list endpoint.

``PageNumberPagination`` for bounded tables (staff CRUD); ``CursorPagination`` for
tables that grow without bound (events, ledger entries, results), so a deep page costs
the same as the first one.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Field, Func, Value
from rest_framework import pagination
from rest_framework.exceptions import NotFound


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CursorPagination(pagination.CursorPagination):
    """A keyset cursor on the ordering's field and the primary key.

    DRF's cursor positions on the first ordering field alone and steps over rows that share its
    value with an ``OFFSET``: where many rows share a timestamp (bulk imports, seeded data), a deep
    page read and threw away every row before it (the 51st page of the results took 130 times the
    first). Here the order is always ``(field, primary key)`` in one direction, a cursor holds both
    values of the page's edge, and the next page starts strictly after them: ``(field, pk) < (value,
    pk value)`` (``>`` going the other way), one row comparison that an index on ``(field, pk)``
    answers at once. Rows whose field is NULL are left out, as DRF's cursor leaves them out; a
    position the server did not make is a 404, as an undecodable cursor is.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def get_ordering(self, request, queryset, view):
        first = super().get_ordering(request, queryset, view)[0]
        pk = queryset.model._meta.pk.attname
        return (first, f"-{pk}" if first.startswith("-") else pk)

    def _get_position_from_instance(self, instance, ordering):
        position = super()._get_position_from_instance(instance, ordering)
        pk = ordering[1].lstrip("-")
        return f"{position}|{instance[pk] if isinstance(instance, dict) else getattr(instance, pk)}"

    def paginate_queryset(self, queryset, request, view=None):
        # DRF's method, with the keyset condition instead of a filter on the first field and an offset.
        self.request = request
        self.page_size = self.get_page_size(request)
        if not self.page_size:
            return None
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, queryset, view)
        self.cursor = self.decode_cursor(request)
        offset, reverse, position = self.cursor if self.cursor is not None else (0, False, None)
        ordering = [_reversed(o) for o in self.ordering] if reverse else list(self.ordering)
        queryset = queryset.order_by(*ordering)
        if position is not None:
            try:
                queryset = self._after(queryset, position, ascending=not ordering[0].startswith("-"))
            except (TypeError, ValueError, DjangoValidationError):  # a cursor not made here
                raise NotFound(self.invalid_cursor_message) from None
        results = list(queryset[offset : offset + self.page_size + 1])
        self.page = results[: self.page_size]
        following = (
            self._get_position_from_instance(results[-1], self.ordering) if len(results) > len(self.page) else None
        )
        if reverse:
            self.page.reverse()
            self.has_next, self.has_previous = position is not None or offset > 0, following is not None
            self.next_position, self.previous_position = position, following
        else:
            self.has_next, self.has_previous = following is not None, position is not None or offset > 0
            self.next_position, self.previous_position = following, position
        if (self.has_previous or self.has_next) and self.template is not None:
            self.display_page_controls = True
        return self.page

    def _after(self, queryset, position: str, *, ascending: bool):
        """The rows strictly after ``position`` (a cursor's edge) in the queryset's order: one row
        comparison, ``(field, pk) < (value, pk value)``, which a ``(field, pk)`` index answers
        directly (without one, PostgreSQL sorts every row sharing the field's value)."""
        op = "gt" if ascending else "lt"
        field = self.ordering[0].lstrip("-")
        value, separator, pk_value = position.rpartition("|")
        if not separator:
            raise ValueError(position)
        pk = self.ordering[1].lstrip("-")
        model_field, model_pk = queryset.model._meta.get_field(field), queryset.model._meta.pk
        edge = _row(
            Value(model_field.to_python(value), output_field=model_field),
            Value(model_pk.to_python(pk_value), output_field=model_pk),
        )
        return queryset.alias(_cursor_key=_row(F(field), F(pk))).filter(**{f"_cursor_key__{op}": edge})


def _row(*values) -> Func:
    return Func(*values, function="ROW", output_field=Field())


def _reversed(order: str) -> str:
    return order[1:] if order.startswith("-") else f"-{order}"
