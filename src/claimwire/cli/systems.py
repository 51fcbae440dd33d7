"""``claimwire run`` and ``claimwire benchmark``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from claimwire.cli.common import chosen_release, console, err_console, progress_bar, project
from claimwire.cli.engine import ENGINE, RAY_ADDRESS
from claimwire.errors import ClaimwireError
from claimwire.eval.resampling import DEFAULT_RESAMPLES, DEFAULT_SEED


def _options(pairs: list[str]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ClaimwireError(f"--option expects KEY=VALUE, got {pair!r}")
        options[key] = value
    return options


def run(
    system: str | None = typer.Argument(
        None, help="A registered system name (`--list` or `claimwire systems` lists them)."
    ),
    release: str | None = typer.Option(
        None, help="The release to annotate (folder, URI or X.Y.Z) [default: the newest]."
    ),
    split: str = typer.Option("test", help="Split to annotate (train, dev, test or all)."),
    out: Path | None = typer.Option(
        None, help="Prediction file to write (JSONL); re-runs resume it."
    ),
    option: list[str] = typer.Option([], "--option", "-o", help="System option KEY=VALUE."),
    env: list[str] = typer.Option(
        [],
        "--env",
        help="An environment variable the command system's program may see (repeatable); "
        "it gets only PATH, HOME, the locale and the temporary folder otherwise.",
    ),
    batch_size: int = typer.Option(32, min=1, help="Documents per batch."),
    list_systems: bool = typer.Option(
        False, "--list", help="List the registered systems and exit."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace --out if it holds another run (else refused)."
    ),
    engine: str = ENGINE,
    ray_address: str | None = RAY_ADDRESS,
) -> None:
    """Run a system over a release split into a prediction file (resumable: a re-run of the
    same system, options, release and split continues where it stopped)."""
    if list_systems:
        systems()
        return
    if system is None or out is None:
        raise ClaimwireError(
            "run needs a SYSTEM and --out FILE (`claimwire run --list` lists them)"
        )
    from claimwire.corpus.release import open_release
    from claimwire.engine import open_engine
    from claimwire.files import output_target
    from claimwire.outputs import check_output
    from claimwire.systems.base import RunContext, load_system, run_system

    check_output(out)
    out = output_target(out)  # through a symbolic link: .done and .meta.json beside its target
    runner = open_engine(engine, ray_address)
    # documents are read from the release batch by batch (by the workers with Ray): none held
    context = RunContext.for_split(open_release(chosen_release(release)), split, hold=False)
    options = _options(option)
    if env:
        if system != "command":
            raise ClaimwireError(f"--env is for the command system, not {system}")
        options["env"] = ",".join([*filter(None, options.get("env", "").split(",")), *env])
    instance = load_system(system, options)
    with progress_bar() as bar:
        task = bar.add_task(f"{system}", total=context.size(), detail="")

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, detail=f"{done} documents")

        meta = run_system(
            instance,
            context,
            out,
            batch_size=batch_size,
            progress=advance,
            overwrite=overwrite,
            engine=runner,
        )
    console.print(f"[green]Wrote[/] {escape(str(out))} for {context.size()} documents")
    console.print(f"[dim]{escape(meta['signature'])}[/]", soft_wrap=True)


def systems() -> None:
    """List the registered systems (entry points of claimwire.systems)."""
    from claimwire.systems.base import available_systems

    for name, entry in sorted(available_systems().items()):
        console.print(f"[bold]{escape(name)}[/]  {escape(entry.value)}")


def benchmark_command(
    release: Path | None = typer.Option(
        None, help="The release to benchmark on (folder or X.Y.Z) [default: the newest]."
    ),
    runs: Path | None = typer.Option(
        None, help="Where each system's predictions go [default: the project's eval/runs]."
    ),
    leaderboard_path: Path | None = typer.Option(
        None,
        "--leaderboard",
        help="Markdown leaderboard to write [default: the project's eval/leaderboard.md].",
    ),
    html: Path | None = typer.Option(
        None, help="HTML report to write [default: the project's eval/report.html]."
    ),
    bootstrap: int = typer.Option(
        DEFAULT_RESAMPLES, min=10, max=100_000, help="Bootstrap resamples."
    ),
    seed: int = typer.Option(DEFAULT_SEED, min=0, max=2**32 - 1, help="Random seed."),
    system: list[str] = typer.Option(
        [], "--system", help="Systems to run [default: every built-in one]."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Replace an existing --leaderboard / --html that claimwire did not write.",
    ),
) -> None:
    """Run every built-in system on every task over the bundled release, score them with
    confidence intervals, write the leaderboard and the HTML report, and print the table."""
    from claimwire.benchmark import BUILT_IN, LEADERBOARD_BEGINS, benchmark
    from claimwire.cli.eval import print_leaderboard
    from claimwire.eval.html import PAGE_BEGINS
    from claimwire.outputs import check_distinct, check_output, check_rewritable

    for path, option in ((runs, "--runs"), (leaderboard_path, "--leaderboard"), (html, "--html")):
        check_output(path, option=option)
    release = chosen_release(release)
    runs = runs or project().runs
    leaderboard_path = leaderboard_path or project().eval / "leaderboard.md"
    html = html or project().eval / "report.html"
    check_distinct([("--leaderboard", leaderboard_path), ("--html", html)])
    check_rewritable(leaderboard_path, LEADERBOARD_BEGINS, force, "--leaderboard", "a leaderboard")
    check_rewritable(html, PAGE_BEGINS, force, "--html", "an HTML report")
    with err_console.status("benchmark") as status:
        result = benchmark(
            release,
            runs,
            leaderboard_path,
            html,
            resamples=bootstrap,
            seed=seed,
            systems=tuple(system) or BUILT_IN,
            progress=lambda m: status.update(m),
        )
    for task_name, scored in result.results.items():
        print_leaderboard(scored)
        console.print(
            f"[dim]{escape(result.evaluations[task_name].signature())}[/]", soft_wrap=True
        )
    console.print(
        f"Leaderboard: {escape(str(leaderboard_path))}"
        + (f"   HTML report: {escape(str(html))}" if html else "")
    )
