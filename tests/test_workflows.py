"""The CI workflows run with least privilege.

zizmor (a static analyser for GitHub Actions) finds nothing; every action is pinned to a commit;
only the deploy job may write to Pages or mint an OIDC token; no checkout leaves its token on disk.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import REPO

GITHUB_DIR = REPO / ".github"
WORKFLOWS = sorted((GITHUB_DIR / "workflows").glob("*.y*ml"))
PUBLISH = GITHUB_DIR / "workflows" / "publish.yml"

# A commit hash cannot be moved to other code later, as a tag or a branch can.
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
# The line of a `uses:`, whose comment must name the version the hash stands for.
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(#.*)?$")
VERSION_COMMENT = re.compile(r"^# v\d+(\.\d+)*$")


def zizmor(*inputs: Path) -> subprocess.CompletedProcess[str]:
    """Run zizmor offline on ``inputs``: exit status 0 means no findings."""
    # zizmor ships as a binary in the test extras, beside this interpreter.
    executable = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    return subprocess.run(
        # --no-config: only inline `# zizmor: ignore[rule]` comments, each beside its reason,
        # may silence a finding; a configuration file could silence a rule everywhere.
        [executable, "--offline", "--no-progress", "--no-config", "--color", "never", *inputs],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )


def load(workflow: Path) -> dict:
    return yaml.safe_load(workflow.read_text(encoding="utf-8"))


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_zizmor_finds_nothing_in_the_workflows():
    result = zizmor(GITHUB_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout + result.stderr
    # zizmor logs each input it audited; none may have been skipped (as .gitignore'd, say).
    assert [p.name for p in WORKFLOWS if f"completed {p}" not in result.stderr] == [], result.stderr


def test_zizmor_reports_an_unpinned_action_and_workflow_wide_pages_permission(tmp_path):
    # Guards the test above: zizmor really audits a workflow given to it this way. (With a single
    # job, workflow-wide permissions are that job's, and zizmor rightly says nothing.)
    workflow = tmp_path / ".github" / "workflows" / "bad.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "on: push\n"
        "permissions:\n"
        "  pages: write\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/setup-python@v5\n"
        "  deploy:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo deploy\n",
        encoding="utf-8",
    )
    result = zizmor(workflow)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "error[unpinned-uses]" in result.stdout, result.stdout
    assert "error[excessive-permissions]" in result.stdout, result.stdout


def test_every_action_is_pinned_to_a_commit_with_its_version_in_a_comment():
    for path in WORKFLOWS:
        workflow = load(path)
        uses = [step["uses"] for step in steps(workflow) if "uses" in step]
        uses += [job["uses"] for job in workflow["jobs"].values() if "uses" in job]
        assert [u for u in uses if not PINNED.match(u)] == [], path.name

        lines = [USES_LINE.match(line) for line in path.read_text(encoding="utf-8").splitlines()]
        lines = [match for match in lines if match]
        assert [match[1] for match in lines] == uses, f"{path.name}: a `uses:` line not read"
        unversioned = [m[0] for m in lines if not VERSION_COMMENT.match((m[2] or "").strip())]
        assert unversioned == [], f"{path.name}: `uses:` without a `# vX.Y.Z` comment"


def test_no_workflow_grants_permissions_to_every_job():
    for path in WORKFLOWS:
        assert load(path).get("permissions") == {}, path.name


def test_only_the_deploy_job_may_write_pages_or_mint_id_tokens():
    jobs = load(PUBLISH)["jobs"]
    assert {name: job.get("permissions") for name, job in jobs.items()} == {
        "fetch": {"contents": "write"},  # it pushes the new listing to main
        "enrich": {"contents": "write"},  # it pushes the enrichment cache to main
        "build": {"contents": "read"},
        "deploy": {"pages": "write", "id-token": "write"},
    }


def test_every_checkout_leaves_no_token_on_disk():
    # The one job that pushes hands its token to git in the push step alone (see publish.yml).
    checkouts = [
        (path.name, step.get("with", {}).get("persist-credentials"))
        for path in WORKFLOWS
        for step in steps(load(path))
        if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert len(checkouts) >= 3, checkouts  # fetch, enrich and build check out the repository
    assert [kept for _, kept in checkouts if kept is not False] == [], checkouts


def test_the_enrich_job_is_switched_on_like_the_fetch_and_commits_only_the_cache():
    jobs = load(PUBLISH)["jobs"]
    enrich = jobs["enrich"]
    assert "github.event_name == 'schedule'" in enrich["if"]
    assert "vars.PAPERSHELF_ENRICH == 'true'" in enrich["if"]
    assert enrich["needs"] == "fetch" and "enrich" in jobs["build"]["needs"]
    runs = [step.get("run", "") for step in enrich["steps"]]
    enrich_step = next(i for i, run in enumerate(runs) if "build.py enrich" in run)
    commit_step = next(i for i, run in enumerate(runs) if "git commit" in run)
    assert enrich_step < commit_step
    assert "git add content/enrichment\n" in runs[commit_step]
    # Only the push step sees the token.
    with_token = [step["name"] for step in enrich["steps"] if "secrets." in str(step)]
    assert with_token == ["Push the cache"]


# What the incremental build reuses (see publish.yml's header): the pages' Markdown, the
# stamp of the site and the site.
BUILD_CACHE = ["build/docs", "build/site-stamp.json", "site"]
STATUS_FUNCTIONS = ("success()", "failure()", "always()", "cancelled()")


def build_steps() -> list[dict]:
    return load(PUBLISH)["jobs"]["build"]["steps"]


def step_using(job_steps: list[dict], action: str) -> int:
    (index,) = [
        i for i, step in enumerate(job_steps) if step.get("uses", "").startswith(action + "@")
    ]
    return index


def cached_paths(step: dict) -> list[str]:
    return step["with"]["path"].split()


def test_the_build_job_restores_the_previous_build_and_saves_it_after_the_checks():
    job_steps = build_steps()
    runs = [step.get("run", "") for step in job_steps]
    tests = next(i for i, run in enumerate(runs) if "python -m pytest" in run)
    build = runs.index("python build.py all")
    checks = next(i for i, step in enumerate(job_steps) if step.get("name") == "Check the result")
    restore = step_using(job_steps, "actions/cache/restore")
    save = step_using(job_steps, "actions/cache/save")
    published = step_using(job_steps, "actions/upload-pages-artifact")
    # The tests see a clean checkout; the build, the previous one; the next run, this one
    # once it passed its checks.
    assert tests < restore < build < checks < save < published
    assert cached_paths(job_steps[restore]) == cached_paths(job_steps[save]) == BUILD_CACHE
    assert job_steps[save]["with"]["key"] == "${{ steps.restore.outputs.cache-primary-key }}"
    # No other job, and no other step, restores or saves a cache.
    everywhere = [step.get("uses", "") for step in steps(load(PUBLISH))]
    assert len([uses for uses in everywhere if "cache" in uses]) == 2


def test_the_build_cache_key_covers_the_inputs_the_code_and_python():
    job_steps = build_steps()
    restore = job_steps[step_using(job_steps, "actions/cache/restore")]["with"]
    key, fallback = restore["key"], restore["restore-keys"].strip()
    assert job_steps[step_using(job_steps, "actions/setup-python")]["id"] == "python"
    assert fallback == "build-${{ runner.os }}-python${{ steps.python.outputs.python-version }}-"
    # A miss restores the newest earlier build of this system and Python: the key less its hash.
    assert key.startswith(fallback) and "hashFiles(" in key.removeprefix(fallback)
    patterns = re.findall(r"'([^']+)'", key)
    for inputs in (
        "content/**",
        "notebooks/**",
        "mkdocs.yml",
        "pyproject.toml",
        "datasets/metadata.yml",
        "build/installed-versions.txt",
    ):
        assert inputs in patterns
    # Found by a review: with the installed versions out of the key, a new release of
    # MkDocs made every run build the site in full until the content changed.
    recorded = next(
        i for i, step in enumerate(job_steps) if "installed-versions.txt" in step.get("run", "")
    )
    assert recorded < step_using(job_steps, "actions/cache/restore")
    # Every file of the package (its compiled bytecode aside) is in the key.
    package = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "papershelf").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert [path for path in package if not any(glob_match(path, p) for p in patterns)] == []
    assert not any(glob_match("papershelf/__pycache__/cli.cpython-311.pyc", p) for p in patterns)


def glob_match(path: str, pattern: str) -> bool:
    """``path`` matches ``pattern`` as hashFiles reads it (``**/`` is any folders, or none)."""
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(
        path, pattern.replace("**/", "")
    )


def test_the_build_is_saved_only_from_the_default_branch_after_every_step_passed():
    job_steps = build_steps()
    condition = job_steps[step_using(job_steps, "actions/cache/save")]["if"]
    # main by name: a scheduled run's event carries no repository.default_branch.
    assert condition.startswith("github.ref == 'refs/heads/main' && ")
    assert "github.event.repository" not in condition
    # Without a status function the step runs only when every step before it succeeded.
    assert not any(function in condition for function in STATUS_FUNCTIONS)
    # No pull request runs this workflow (PyYAML reads the key `on` as True).
    triggers = load(PUBLISH)[True]
    assert sorted(triggers) == ["push", "schedule", "workflow_dispatch"]
    assert triggers["push"] == {"branches": ["main"]}
