"""Pagination for every list endpoint.

``PageNumberPagination`` for bounded tables (staff CRUD); ``CursorPagination`` for
tables that grow without bound (events, ledger entries, results), so a deep page costs
the same as the first one.
"""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")
