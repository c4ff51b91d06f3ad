"""FocusedRoom's architecture rules as import-linter contracts (``make lint`` runs them).

``.importlinter`` declares the layer order with import-linter's own ``layers`` contract and
uses :class:`AppInterfaceContract` for the two rules a layers contract cannot say:

* across apps, production code imports only ``<app>.services``, ``<app>.selectors`` and
  ``<app>.signals`` (models are referred to by string in foreign keys; anything else an app
  offers others goes through one of those three modules or a registry);
* the plumbing (every ``focusedroom`` module outside the shell) imports no app.

Tests (``<app>.tests``) and migrations are held to the layer order only: a test may build
rows with a lower app's factories and models.
"""

from __future__ import annotations

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output

PUBLIC = ("services", "selectors", "signals")


def _app(module: str, apps: set[str]) -> str | None:
    top = module.split(".")[0]
    return top if top in apps else None


def _is_public(imported: str, app: str) -> bool:
    parts = imported.split(".")
    return len(parts) >= 2 and parts[0] == app and parts[1] in PUBLIC


def _exempt(importer: str) -> bool:
    parts = importer.split(".")
    return "tests" in parts or "migrations" in parts


class AppInterfaceContract(Contract):
    type_name = "app_interface"

    apps = fields.ListField(subfield=fields.StringField())
    plumbing = fields.StringField()
    shell = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        apps = set(self.apps)  # type: ignore[arg-type]
        shell = tuple(self.shell)  # type: ignore[arg-type]
        plumbing = str(self.plumbing)
        violations = []
        for importer in sorted(graph.modules):
            in_shell = any(importer == s or importer.startswith(s + ".") for s in shell)
            in_plumbing = importer.split(".")[0] == plumbing and not in_shell
            importer_app = _app(importer, apps)
            if importer_app is None and not in_plumbing:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                target_app = _app(imported, apps)
                if target_app is None or target_app == importer_app:
                    continue
                if in_plumbing:
                    if importer.split(".")[-1] != "tests" and "tests" not in importer.split("."):
                        violations.append((importer, imported, "the plumbing imports no app"))
                    continue
                if _exempt(importer) or _is_public(imported, target_app):
                    continue
                violations.append((importer, imported, "only services, selectors and signals cross apps"))
        details = []
        for importer, imported, why in violations:
            lines = sorted({d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)})
            details.append({"importer": importer, "imported": imported, "why": why, "lines": lines})
        return ContractCheck(kept=not details, metadata={"violations": details})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for v in check.metadata["violations"]:
            where = ", ".join(f"l.{n}" for n in v["lines"])
            output.print_error(f"{v['importer']} -> {v['imported']} ({where}): {v['why']}")
