"""The ``orchestrator`` command."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from orchestrator.config import get_settings
from orchestrator.console.campaign_app import campaign_app
from orchestrator.devstack import devstack_app
from orchestrator.enqueue import DEFAULT_QUEUE, OUTBOUND_QUEUE
from orchestrator.events.cli import events_app
from orchestrator.exceptions import DomainError
from orchestrator.suppression.cli import suppression_app

app = typer.Typer(help="Outbound campaign orchestrator.", no_args_is_help=True)
org_app = typer.Typer(help="Orgs and API keys.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(devstack_app, name="devstack")
app.add_typer(events_app, name="events")
app.add_typer(suppression_app, name="suppression")
app.add_typer(campaign_app, name="campaign")
console = Console()


def _fail(error: DomainError) -> NoReturn:
    for message in error.messages:
        console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def _uuid_argument(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        console.print(f"[red]error:[/red] {name} must be a UUID", highlight=False)
        raise typer.Exit(2) from None


@org_app.command("create")
def org_create(
    name: str,
    concurrency_limit: Annotated[int, typer.Option(help="Calls in flight at once.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Create an org and print its id and a new API key (shown once)."""
    from orchestrator.db import session_scope
    from orchestrator.orgs.service import create_org

    try:
        with session_scope() as session:
            created = create_org(session, name=name, concurrency_limit=concurrency_limit)
    except DomainError as error:
        _fail(error)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "orgId": str(created.org_id),
                    "name": created.name,
                    "concurrencyLimit": created.concurrency_limit,
                    "apiKey": created.api_key,
                    "signingSecret": created.signing_secret,
                }
            )
        )
        return
    console.print(f"org id:            {created.org_id}")
    console.print(f"concurrency limit: {created.concurrency_limit}")
    console.print(f"API key:           {created.api_key}")
    console.print(f"signing secret:    {created.signing_secret}")
    console.print(
        "[yellow]The key and the signing secret (it signs campaign events to your servers) "
        "are shown once; store them now.[/yellow]"
    )


@org_app.command("rotate-signing-secret")
def org_rotate_signing_secret(
    org_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Give an org a new signing secret for its campaign events and print it (shown once)."""
    from orchestrator.db import session_scope
    from orchestrator.orgs.service import rotate_signing_secret

    try:
        with session_scope() as session:
            secret = rotate_signing_secret(session, org_id=_uuid_argument(org_id, "ORG_ID"))
    except DomainError as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps({"orgId": org_id, "signingSecret": secret}))
        return
    console.print(f"org {org_id}: new signing secret {secret}")
    console.print("[yellow]Shown once; events are signed with it from now on.[/yellow]")


@org_app.command("set-limit")
def org_set_limit(org_id: str, concurrency_limit: int) -> None:
    """Change an org's concurrency limit (calls in flight across all its campaigns)."""
    import uuid

    from orchestrator.db import session_scope
    from orchestrator.orgs.service import set_concurrency_limit

    try:
        with session_scope() as session:
            set_concurrency_limit(
                session, org_id=uuid.UUID(org_id), concurrency_limit=concurrency_limit
            )
    except DomainError as error:
        _fail(error)
    console.print(f"org {org_id}: concurrency limit {concurrency_limit}")


@org_app.command("calling-hours")
def org_calling_hours(
    org_id: str,
    enabled: bool = typer.Option(..., "--on/--off", help="Switch the default policy on or off."),
) -> None:
    """Default calling hours for campaigns that set none: every day 08:00-21:00 local time.

    The contact's zone comes from customer.timezone or the number's region (UTC if unknown).
    """
    import uuid

    from orchestrator.db import session_scope
    from orchestrator.orgs.service import set_default_calling_hours

    try:
        with session_scope() as session:
            set_default_calling_hours(session, org_id=uuid.UUID(org_id), enabled=enabled)
    except DomainError as error:
        _fail(error)
    state = "on" if enabled else "off"
    console.print(f"org {org_id}: default calling hours (08:00-21:00 local) {state}")


@app.command()
def migrate() -> None:
    """Apply database migrations (Alembic) up to the latest."""
    from orchestrator.migrate import upgrade_to_head

    upgrade_to_head()
    console.print("database is at the latest migration")


@app.command()
def api(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    _refuse_unsafe_settings()
    uvicorn.run(
        "orchestrator.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=get_settings().log_level.lower(),
    )


def _refuse_unsafe_settings() -> None:
    from orchestrator.safety import unsafe_settings

    problems = unsafe_settings(get_settings())
    if problems:
        console.print(
            "[red]error:[/red] refusing to start with development settings outside "
            "ORCH_ENV=development:",
            highlight=False,
        )
        for problem in problems:
            console.print(f"  - {problem}", highlight=False)
        raise typer.Exit(2)


def _celery(args: list[str]) -> None:
    command = [sys.executable, "-m", "celery", "-A", "workers.celery_app:celery_app", *args]
    raise typer.Exit(subprocess.call(command, env=os.environ.copy()))


def _pool_for_threads(threads: int) -> None:
    """A sending thread holds two connections at once (one keeps the org's suppression lock
    until the provider has answered): a pool of fewer than two per thread could be used up by
    threads each waiting for its second. Raise the overflow for this worker when it is short."""
    settings = get_settings()
    wanted = 2 * threads + 2
    have = settings.database_pool_size + settings.database_pool_overflow
    if have < wanted:
        overflow = wanted - settings.database_pool_size
        os.environ["ORCH_DATABASE_POOL_OVERFLOW"] = str(overflow)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Processes (or threads) per worker.")] = 8,
    pool: Annotated[str, typer.Option(help="prefork, threads, solo.")] = "threads",
    loglevel: str = "INFO",
    hostname: str | None = None,
    queues: Annotated[
        str,
        typer.Option(
            help=f"Queues to consume, comma-separated: {DEFAULT_QUEUE} (dials, ticks, webhooks) "
            f"and {OUTBOUND_QUEUE} (pre-dial checks, campaign events to users' servers). "
            "Run one worker for each, so a slow receiver never holds a dialing thread."
        ),
    ] = DEFAULT_QUEUE,
) -> None:
    """Run a Celery worker."""
    _refuse_unsafe_settings()
    if pool == "threads":
        _pool_for_threads(concurrency)
    args = ["worker", f"--concurrency={concurrency}", f"--pool={pool}", f"--loglevel={loglevel}"]
    args.append(f"--queues={queues}")
    if hostname:
        args.append(f"--hostname={hostname}")
    _celery(args)


@app.command()
def beat(
    loglevel: str = "INFO",
    schedule: Annotated[str | None, typer.Option(help="Beat's state file.")] = None,
) -> None:
    """Run the scheduler's clock (Celery beat): one tick every second."""
    _refuse_unsafe_settings()
    # One state file per broker, so two stacks on different Redis databases never share one.
    broker = hashlib.sha256(get_settings().redis_url.encode()).hexdigest()[:12]
    default = Path(tempfile.gettempdir()) / f"orchestrator-beat-{broker}"
    state_file = schedule or str(default)
    _celery(["beat", f"--loglevel={loglevel}", f"--schedule={state_file}"])


@app.command()
def flower(
    port: int = 5555,
    host: str = "127.0.0.1",
    basic_auth: Annotated[
        str | None,
        typer.Option(
            help="Flower's credentials, user:password (several: comma-separated). Default: "
            "ORCH_FLOWER_BASIC_AUTH. Required unless --host is a loopback address.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run Flower, the live Celery dashboard (every task and its state)."""
    from orchestrator.runner.flower import FlowerConfigError, flower_command, flower_environment

    credentials = basic_auth or get_settings().flower_basic_auth or None
    try:
        command = flower_command(
            python=sys.executable, host=host, port=port, basic_auth=credentials
        )
    except FlowerConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--basic-auth'") from None
    # Flower takes this process's place: a signal sent to it (a stop) reaches Flower itself.
    os.execve(command.argv[0], command.argv, flower_environment(os.environ, command))  # noqa: S606


FaultsOption = Annotated[
    str,
    typer.Option(
        envvar="ORCH_SIMULATOR_FAULTS",
        help="Simulator faults as name=value,... e.g. dup=0.2,drop=0.05,delay=0.5:2,"
        "create_5xx=0.05 (every name: README, 'The simulator'). Empty: none.",
    ),
]
HmacSecretOption = Annotated[
    str,
    typer.Option(
        envvar="ORCH_SIMULATOR_WEBHOOK_HMAC_SECRET",
        help="Sign every simulator webhook: x-timestamp and x-signature (hex HMAC-SHA256 of "
        "'{timestamp}.{body}').",
        show_default=False,
    ),
]


def _checked_faults(faults: str) -> str:
    """``faults`` if it parses; a usage error (exit code 2) naming every problem otherwise."""
    from orchestrator.simulator.faults import FaultSpecError, parse_faults

    try:
        parse_faults(faults)
    except FaultSpecError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--faults'") from None
    return faults


StateDirOption = Annotated[
    Path | None,
    typer.Option(
        help="Where the simulator keeps its calls and counters across restarts, one simulator "
        "per dir. Default: <devstack dir>/simulator ($ORCH_DEVSTACK_DIR or ./.devstack).",
        show_default=False,
    ),
]
FreshOption = Annotated[
    bool, typer.Option("--fresh", help="Start empty: forget the calls of earlier runs.")
]
PhoneNumbersOption = Annotated[
    str,
    typer.Option(
        help="Phone numbers GET /phone-number lists from the start, besides those calls name: "
        "ID or ID=+E164, comma-separated, e.g. line-1,line-2=+14155550123.",
    ),
]


def _checked_phone_numbers(phone_numbers: str) -> tuple[str, ...]:
    """The ``--phone-numbers`` items if they parse; a usage error (exit code 2) otherwise."""
    from orchestrator.simulator import PhoneNumberSpecError, parse_phone_numbers

    try:
        parse_phone_numbers([phone_numbers])
    except PhoneNumberSpecError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--phone-numbers'") from None
    return (phone_numbers,) if phone_numbers else ()


@app.command()
def simulator(
    port: int = 8200,
    host: str = "127.0.0.1",
    profile: Annotated[str, typer.Option(help="instant, fast, steady or realistic.")] = "fast",
    seed: int = 0,
    concurrency_limit: Annotated[int, typer.Option(help="Provider's calls in flight.")] = 10,
    faults: FaultsOption = "",
    webhook_hmac_secret: HmacSecretOption = "",
    state_dir: StateDirOption = None,
    fresh: FreshOption = False,
    phone_numbers: PhoneNumbersOption = "",
) -> None:
    """Run the Vapi-compatible provider simulator."""
    from orchestrator.devstack import devstack_root
    from orchestrator.simulator.journal import SimulatorStateLocked
    from orchestrator.simulator.server import run_simulator

    checked_faults = _checked_faults(faults)
    checked_numbers = _checked_phone_numbers(phone_numbers)
    try:
        run_simulator(
            host=host,
            port=port,
            profile=profile,
            seed=seed,
            concurrency_limit=concurrency_limit,
            faults=checked_faults,
            webhook_hmac_secret=webhook_hmac_secret,
            state_dir=state_dir or devstack_root() / "simulator",
            fresh=fresh,
            phone_numbers=checked_numbers,
        )
    except SimulatorStateLocked as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


ApiPortOption = Annotated[int, typer.Option(help="API port (0: any free port).")]
SimulatorPortOption = Annotated[int, typer.Option(help="Simulator port (0: any free port).")]
WorkersOption = Annotated[int, typer.Option(min=1, help="Celery worker processes.")]
ConcurrencyOption = Annotated[int, typer.Option(min=1, help="Threads per worker.")]
ProfileOption = Annotated[
    str, typer.Option(help="Simulator profile: instant, fast, steady or realistic.")
]
SimLimitOption = Annotated[int, typer.Option(min=0, help="Simulator's calls in flight.")]
OrgLimitOption = Annotated[int, typer.Option(min=1, help="Concurrency limit of the dev org.")]
SimulatorStateOption = Annotated[
    Path | None,
    typer.Option(
        help="Where the simulator keeps its calls across restarts. Default: <devstack "
        "dir>/simulator.",
        show_default=False,
    ),
]
FreshSimulatorOption = Annotated[
    bool,
    typer.Option(
        "--fresh-simulator", help="Start the simulator empty: forget the calls of earlier runs."
    ),
]


@app.command()
def up(
    api_port: ApiPortOption = 8000,
    simulator_port: SimulatorPortOption = 8200,
    workers: WorkersOption = 1,
    concurrency: ConcurrencyOption = 8,
    profile: ProfileOption = "fast",
    seed: int = 0,
    simulator_concurrency_limit: SimLimitOption = 50,
    org_concurrency_limit: OrgLimitOption = 50,
    faults: FaultsOption = "",
    webhook_hmac_secret: HmacSecretOption = "",
    simulator_state_dir: SimulatorStateOption = None,
    fresh_simulator: FreshSimulatorOption = False,
    simulator_phone_numbers: Annotated[
        str, typer.Option(help="The simulator's --phone-numbers (ID or ID=+E164, ...).")
    ] = "",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON line on stdout; logs go to stderr.")
    ] = False,
) -> None:
    """Run the whole stack for development: API, workers, beat and the simulator."""
    from orchestrator.runner import StackOptions, run_up

    options = StackOptions(
        api_port=api_port,
        simulator_port=simulator_port,
        workers=workers,
        concurrency=concurrency,
        profile=profile,
        seed=seed,
        simulator_concurrency_limit=simulator_concurrency_limit,
        org_concurrency_limit=org_concurrency_limit,
        faults=_checked_faults(faults),
        webhook_hmac_secret=webhook_hmac_secret,
        simulator_state_dir=str(simulator_state_dir or ""),
        fresh_simulator=fresh_simulator,
        simulator_phone_numbers=simulator_phone_numbers,
    )
    raise typer.Exit(run_up(options, as_json=as_json))


@app.command()
def demo(
    api_port: ApiPortOption = 0,
    simulator_port: SimulatorPortOption = 0,
    workers: WorkersOption = 2,
    concurrency: ConcurrencyOption = 16,
    profile: ProfileOption = "fast",
    seed: int = 0,
    simulator_concurrency_limit: SimLimitOption = 50,
    org_concurrency_limit: OrgLimitOption = 50,
    contacts: Annotated[int, typer.Option(min=1, help="Customers in the campaign.")] = 500,
    max_concurrency: Annotated[int, typer.Option(min=1, help="Campaign maxConcurrency.")] = 25,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the campaign.")] = 300.0,
    verbose: Annotated[bool, typer.Option(help="Stream every process's log.")] = False,
    simulator_state_dir: SimulatorStateOption = None,
    fresh_simulator: FreshSimulatorOption = False,
    simulator_phone_numbers: Annotated[
        str, typer.Option(help="The simulator's --phone-numbers (ID or ID=+E164, ...).")
    ] = "",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON line.")
    ] = False,
) -> None:
    """Run a campaign end to end on a fresh stack and the simulator, then print a summary."""
    from orchestrator.demo.command import DemoOptions, run_demo
    from orchestrator.runner import StackOptions

    stack = StackOptions(
        api_port=api_port,
        simulator_port=simulator_port,
        workers=workers,
        concurrency=concurrency,
        profile=profile,
        seed=seed,
        simulator_concurrency_limit=simulator_concurrency_limit,
        org_concurrency_limit=org_concurrency_limit,
        simulator_state_dir=str(simulator_state_dir or ""),
        fresh_simulator=fresh_simulator,
        # Beside a running `up`, the demo's simulator keeps its calls apart from that one's.
        private_state_if_busy=True,
    )
    options = DemoOptions(
        stack=stack,
        contacts=contacts,
        max_concurrency=max_concurrency,
        timeout=timeout,
        verbose=verbose,
        as_json=as_json,
    )
    raise typer.Exit(run_demo(options))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
