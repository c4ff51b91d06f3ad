"""Read a console page's form the way a browser would submit it (for tests that post admin forms)."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_id: str | None):
        super().__init__()
        self.form_id, self.inside, self.data = form_id, form_id is None, {}
        self.checked: list[tuple[str, str]] = []  # every ticked box, in order (lists share a name)
        self.disabled: set[str] = set()
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.form_id is not None:
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name = a.get("name")
        if name and "disabled" in a:
            self.disabled.add(name)
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
                    self.checked.append((name, a.get("value", "on")))
            else:
                self.data[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self.form_id is not None:
            self.inside = False

    def handle_data(self, data):
        if self._textarea:
            value = self.data[self._textarea] + data
            # Browsers drop the newline that follows <textarea>.
            self.data[self._textarea] = value[1:] if not self.data[self._textarea] and value[:1] == "\n" else value


def form_data(html: str, form_id: str | None = None) -> dict[str, str]:
    """The fields a browser would send for this page's form (checked boxes, selected options)."""
    reader = _FormReader(form_id)
    reader.feed(html)
    data = reader.data
    data.pop("csrfmiddlewaretoken", None)
    return data


def form_query(html: str, form_id: str | None = None):
    """Like ``form_data``, as a ``QueryDict`` with every ticked box of a list (``getlist``) and
    without disabled fields (browsers do not send them)."""
    from django.http import QueryDict

    reader = _FormReader(form_id)
    reader.feed(html)
    query = QueryDict(mutable=True)
    lists = {name for name, _ in reader.checked}
    for name, value in reader.data.items():
        if name != "csrfmiddlewaretoken" and name not in lists and name not in reader.disabled:
            query[name] = value
    for name, value in reader.checked:
        if name not in reader.disabled:
            query.appendlist(name, value)
    return query
