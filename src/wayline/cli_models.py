"""`wayline models`: train, list, show and check the drift of models (docs/models.md).

Models live under `--root` (WAYLINE_MODELS_DIR, by default the packaged `models/` folder,
where the service loads them from too): `<root>/<name>/spec.yaml` and one directory per
version. Training reads the spec's training data: `claim-history` is the demo's synthetic
claim history (wayline/sandbox/claim_training.py), which only the command line may import;
`--data` trains on a JSONL file of rows of the same shape instead.

scikit-learn, skops and numpy are imported inside the commands, so `wayline --help` stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from wayline.config import PACKAGED_MODELS

if TYPE_CHECKING:
    from wayline.models.drift import DriftReport

app = typer.Typer(help="Models beside a decision's rules: train, list, show, drift.")
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

Root = Annotated[
    Path,
    typer.Option(envvar="WAYLINE_MODELS_DIR", help="Where models live (<root>/<name>/...)."),
]
Version = Annotated[int | None, typer.Option(min=1, help="A version (default: the latest).")]
DEFAULT_ROOT = PACKAGED_MODELS  # where Settings.resolved_models_dir() looks by default
T = TypeVar("T")


@app.command()
def train(
    name: str,
    seed: Annotated[int, typer.Option(help="Seed of the data, the split and the fit.")] = 15,
    version: Annotated[int | None, typer.Option(min=1, help="Default: the next one.")] = None,
    root: Root = DEFAULT_ROOT,
    data: Annotated[
        Path | None, typer.Option(help="Train on these JSONL rows, not the spec's data.")
    ] = None,
    rows: Annotated[int, typer.Option(min=100, help="Rows of generated demo data.")] = 5000,
    on: Annotated[
        str | None, typer.Option("--date", help="The card's date (YYYY-MM-DD; default today).")
    ] = None,
) -> None:
    """Train a new version of NAME and write its model file and card."""
    from wayline import models

    spec = _or_exit(lambda: models.spec(root, name))
    chosen = version or models.next_version(root, name)
    training_rows, source = _training_rows(spec.training_data, data, rows, seed)
    trained = _or_exit(
        lambda: models.train(
            spec,
            training_rows,
            seed=seed,
            version=chosen,
            trained_on=_date(on),
            source=source,
        )
    )
    folder = _or_exit(lambda: models.save(root, trained))
    metrics = trained.card.metrics
    console.print(
        f"Trained {name} version {chosen} in {folder}: ROC AUC {metrics.roc_auc:.3f} on "
        f"{metrics.evaluated_on} held-out rows.",
        highlight=False,
    )


@app.command("list")
def list_models(root: Root = DEFAULT_ROOT) -> None:
    """The models under the root, their versions and the latest one's quality."""
    from wayline import models

    table = Table("model", "versions", "latest trained", "ROC AUC")
    for name in models.names(root):
        found = models.versions(root, name)
        if not found:
            table.add_row(name, "none trained", "", "")
            continue
        latest = models.card(root, name)
        versions = ", ".join(str(v) for v in found)
        table.add_row(name, versions, latest.date.isoformat(), f"{latest.metrics.roc_auc:.3f}")
    console.print(table)


@app.command()
def show(
    name: str,
    version: Version = None,
    root: Root = DEFAULT_ROOT,
    as_json: Annotated[bool, typer.Option("--json", help="Print card.json instead.")] = False,
) -> None:
    """Print the card of NAME (a version, or the latest)."""
    from wayline import models
    from wayline.models.card import markdown

    card = _or_exit(lambda: models.card(root, name, version))
    text = card.to_json() if as_json else markdown(card)
    console.print(text, markup=False, highlight=False, end="")


@app.command()
def drift(
    name: str,
    features: Annotated[Path, typer.Option(help="JSONL: one row of feature values a line.")],
    version: Version = None,
    root: Root = DEFAULT_ROOT,
    threshold: Annotated[float, typer.Option(help="PSI above which a feature drifted.")] = 0.2,
) -> None:
    """Compare recent feature rows with NAME's training data (PSI per feature).

    Exits 1 with a warning when any feature's PSI is above the threshold."""
    from wayline import models

    card = _or_exit(lambda: models.card(root, name, version))
    recent = _read_jsonl(features)
    report = _or_exit(lambda: models.check_drift(card.reference, recent, threshold=threshold))
    _print_drift(report)
    if report.warning:
        errors.print(f"[bold red]Warning:[/] {report.warning}", highlight=False)
        raise typer.Exit(1)


def _print_drift(report: DriftReport) -> None:
    table = Table("feature", "PSI", "status", title=f"Drift over {report.rows} rows")
    for found in report.features:
        table.add_row(found.feature, f"{found.psi:.3f}", found.status.value)
    console.print(table)
    console.print(
        f"stable below {report.watch:g}, watch from {report.watch:g}, drift above "
        f"{report.threshold:g}",
        highlight=False,
    )


def _training_rows(
    training_data: str, data: Path | None, rows: int, seed: int
) -> tuple[list[dict[str, Any]], str]:
    """The rows to train on and how the card names them."""
    if data is not None:
        return _read_jsonl(data), f"{data.name} (JSONL)"
    generators = _demo_data()
    if training_data not in generators:
        errors.print(
            f"[bold red]No data named {training_data!r}[/] (known: {', '.join(generators)}): "
            "pass --data FILE.jsonl",
            highlight=False,
        )
        raise typer.Exit(2)
    description = f"the demo's synthetic {training_data} (wayline/sandbox/claim_training.py)"
    return generators[training_data](rows, seed), description


def _demo_data() -> dict[str, Callable[[int, int], list[dict[str, Any]]]]:
    from wayline.sandbox.claim_training import claim_history

    return {"claim-history": claim_history}


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        errors.print(f"[bold red]Cannot read {path}:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    found: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            errors.print(f"[bold red]{path}:{number}:[/] not JSON ({error})", highlight=False)
            raise typer.Exit(2) from None
        if not isinstance(row, dict):
            errors.print(f"[bold red]{path}:{number}:[/] not an object", highlight=False)
            raise typer.Exit(2)
        found.append(row)
    return found


def _date(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.print(f"[bold red]Not a date:[/] {text} (YYYY-MM-DD)", highlight=False)
        raise typer.Exit(2) from None


def _or_exit(action: Callable[[], T]) -> T:
    """The action's result; a missing model or version, a version already there, or a
    value error (spec, training data, feature values, untrusted types) prints and exits 2."""
    from wayline.models import NoSuchModel, VersionExists

    try:
        return action()
    except (NoSuchModel, VersionExists, ValueError) as error:
        errors.print(f"[bold red]{type(error).__name__}:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
