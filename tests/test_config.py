"""Configuration: where it is found, what it accepts, how flags override it, and what it refuses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from walens.config import default_config, glob_match, load_config, resolve_rules
from walens.errors import UsageError
from walens.pipeline import scan_templates
from walens.rules import load_rules

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
FULL = FIXTURES / "config" / "walens.yml"
BAD = (FIXTURES / "cli" / "bad.yaml").read_text()


def repo(tmp_path: Path, config: str | None = None, name: str = ".walens.yml") -> Path:
    (tmp_path / ".git").mkdir(parents=True)
    if config is not None:
        (tmp_path / name).write_text(config)
    return tmp_path


def walens(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "walens", *args], capture_output=True, text=True, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8", **(env or {})},
                          timeout=120)


# --- finding the file ---------------------------------------------------------------------------------


def test_found_at_the_repository_root_from_a_subdirectory(tmp_path: Path) -> None:
    root = repo(tmp_path, "fail_on: low\n")
    sub = root / "a" / "b"
    sub.mkdir(parents=True)
    cfg = load_config(start=str(sub))
    assert cfg.path == str(root / ".walens.yml")
    assert cfg["fail_on"] == "low" and cfg.sources["fail_on"] == str(root / ".walens.yml")
    assert cfg.root == str(root)
    assert cfg.sources["lang"] == "default" and cfg["lang"] == "en"


def test_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".walens.yml").write_text("fail_on: low\n")  # above the repository: not ours
    inner = repo(tmp_path / "project")  # creates project/.git
    cfg = load_config(start=str(inner))
    assert cfg.path is None and cfg["fail_on"] == "high"


def test_pyproject_tool_walens_table(tmp_path: Path) -> None:
    root = repo(tmp_path, '[project]\nname = "x"\n\n[tool.walens]\nfail-on = "medium"\nselect = ["COST001"]\n',
                name="pyproject.toml")
    cfg = load_config(start=str(root))
    assert cfg.path == str(root / "pyproject.toml")
    assert cfg["fail_on"] == "medium" and cfg["select"] == ["COST001"]


def test_pyproject_without_the_table_is_not_a_configuration(tmp_path: Path) -> None:
    root = repo(tmp_path, '[project]\nname = "x"\n', name="pyproject.toml")
    assert load_config(start=str(root)).path is None


def test_dot_walens_yml_wins_over_pyproject(tmp_path: Path) -> None:
    root = repo(tmp_path, "fail_on: low\n")
    (root / "pyproject.toml").write_text('[tool.walens]\nfail_on = "medium"\n')
    assert load_config(start=str(root))["fail_on"] == "low"


def test_explicit_config_wins_and_may_be_toml(tmp_path: Path) -> None:
    root = repo(tmp_path, "fail_on: low\n")
    (root / "ci.toml").write_text('fail_on = "info"\n')
    assert load_config(str(root / "ci.toml"), start=str(root))["fail_on"] == "info"
    with pytest.raises(UsageError, match="--config .*no such file"):
        load_config(str(root / "missing.yml"), start=str(root))


def test_every_key_of_the_full_fixture(tmp_path: Path) -> None:
    cfg = load_config(str(FULL))
    assert cfg["include"] == ["templates/**"] and cfg["exclude"] == ["templates/legacy/**"]
    assert cfg["severity"] == {"OPS001": "low"} and cfg["lang"] == "ja" and cfg["fail_on"] == "medium"
    assert cfg["baseline"] == str(FULL.parent / "baseline.json")  # relative to the file
    assert cfg["report_unused_suppressions"] is True
    (sup,) = cfg.suppressions
    assert (sup.rule, sup.resource, sup.file, sup.reason) == ("COST001", "Legacy*", "templates/**",
                                                              "legacy stack, retired in Q3")
    rules = resolve_rules(cfg, load_rules())
    ids = {r.id for r in rules}
    # pillar costOptimization minus COST003, OPS001, and the rules of ChoiceId perf_perf_q1_a3
    assert {"COST001", "COST002", "OPS001", "PERF001", "PERF002"} <= ids
    assert "COST003" not in ids and not any(i.startswith(("SEC", "REL")) for i in ids)
    by_id = {r.id: r for r in rules}
    assert by_id["OPS001"].severity == "low"
    assert by_id["COST002"].params["max_retention_days"] == 30


# --- errors: file, key, what is allowed ---------------------------------------------------------------


@pytest.mark.parametrize("text, key, allowed", [
    ("fail_ob: high\n", "fail_ob", "allowed: include, exclude"),
    ("fail_on: sometimes\n", "fail_on", "one of high, medium, low, info, never"),
    ("select: COST001\n", "select", "a list of rule IDs"),
    ("lang: fr\n", "lang", "one of en, ja"),
    ("severity: {COST001: critical}\n", "severity.COST001", "one of high, medium, low, info"),
    ("params: {COST002: 30}\n", "params.COST002", "a mapping of param names"),
    ("report_unused_suppressions: yes please\n", "report_unused_suppressions", "true or false"),
    ("suppressions: [{rule: COST001, resource: '*'}]\n", "suppressions[0].reason", "a reason"),
    ("suppressions: [{rule: COST001, resource: '*', reason: x, why: y}]\n", "suppressions[0].why", "one of the keys"),
])
def test_type_errors_name_the_file_the_key_and_what_is_allowed(tmp_path: Path, text: str, key: str,
                                                               allowed: str) -> None:
    root = repo(tmp_path, text)
    with pytest.raises(UsageError) as info:
        load_config(start=str(root))
    message = str(info.value)
    assert message.startswith(str(root / ".walens.yml") + ": "), message
    assert repr(key) in message or f"'{key}'" in message, message
    assert allowed in message, message


@pytest.mark.parametrize("text, key, needle", [
    ("select: [COST999]\n", "select", "unknown rule, pillar or ChoiceId 'COST999'"),
    ("ignore: [nonsense]\n", "ignore", "unknown rule, pillar or ChoiceId 'nonsense'"),
    ("severity: {COST999: low}\n", "severity", "unknown rule 'COST999'"),
    ("params: {COST002: {max_days: 3}}\n", "params", "params.max_days': unknown parameter (known: max_retention_days)"),
    ("params: {COST002: {max_retention_days: '30'}}\n", "params", "expected int"),
    ("suppressions: [{rule: NOPE001, resource: '*', reason: x}]\n", "suppressions", "unknown rule 'NOPE001'"),
])
def test_unknown_rule_ids_and_bad_params_are_refused(tmp_path: Path, text: str, key: str, needle: str) -> None:
    cfg = load_config(start=str(repo(tmp_path, text)))
    with pytest.raises(UsageError) as info:
        resolve_rules(cfg, load_rules())
    message = str(info.value)
    assert message.startswith(str(tmp_path / ".walens.yml") + ": ") and f"key '{key}'" in message, message
    assert needle in message, message


def test_not_a_mapping_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="must be a mapping"):
        load_config(start=str(repo(tmp_path, "- a\n- b\n")))
    (tmp_path / ".walens.yml").write_text("select: [a\n")
    with pytest.raises(UsageError, match="not valid YAML"):
        load_config(start=str(tmp_path))


def test_usage_error_exits_2_with_the_file_and_key(tmp_path: Path) -> None:
    root = repo(tmp_path, "select: [COST999]\n")
    (root / "t.yaml").write_text(BAD)
    proc = walens(root, "scan", "template", "t.yaml")
    assert proc.returncode == 2, proc.stderr
    assert f"{root / '.walens.yml'}: key 'select': unknown rule" in proc.stderr


# --- flags over the file ------------------------------------------------------------------------------


def test_flags_override_the_file(tmp_path: Path) -> None:
    cfg = load_config(start=str(repo(tmp_path, "fail_on: low\nselect: [COST001]\n")))
    cfg = cfg.with_flags(fail_on="never", select=None, lang=None)
    assert cfg["fail_on"] == "never" and cfg.sources["fail_on"] == "--fail-on"
    assert cfg["select"] == ["COST001"] and cfg.sources["select"].endswith(".walens.yml")
    with pytest.raises(UsageError, match="^--fail-on: expected one of"):
        cfg.with_flags(fail_on="sometimes")


def test_cli_flags_win_over_the_file(tmp_path: Path) -> None:
    root = repo(tmp_path, "fail_on: never\nselect: [COST003]\n")
    (root / "t.yaml").write_text(BAD)
    proc = walens(root, "scan", "template", "t.yaml", "-f", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0 and {f["rule_id"] for f in doc["findings"]} == {"COST003"}
    proc = walens(root, "scan", "template", "t.yaml", "-f", "json", "--fail-on", "info", "--select", "COST001")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and {f["rule_id"] for f in doc["findings"]} == {"COST001"}


def test_config_show_names_the_source_of_every_value(tmp_path: Path) -> None:
    root = repo(tmp_path, "fail_on: low\nseverity: {COST003: high}\n")
    proc = walens(root, "config", "show", "--lang", "ja", "-f", "json")
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["config_file"] == str(root / ".walens.yml") and shown["root"] == str(root)
    values = shown["values"]
    assert values["fail_on"] == {"value": "low", "source": str(root / ".walens.yml")}
    assert values["lang"] == {"value": "ja", "source": "--lang"}
    assert values["select"] == {"value": [], "source": "default"}
    assert "COST003" in shown["rules"]
    text = walens(root, "config", "show").stdout
    assert f"fail_on: \"low\"  # {root / '.walens.yml'}" in text and 'lang: "en"  # default' in text


# --- include / exclude --------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern, path, expected", [
    ("*.yaml", "a/b/t.yaml", True),
    ("templates/**", "templates/x/t.yaml", True),
    ("templates/**", "other/templates/t.yaml", False),
    ("**/legacy/*", "a/legacy/t.yaml", True),
    ("legacy/", "legacy/deep/t.yaml", True),
    ("templates/*.yaml", "templates/x/t.yaml", False),
    ("t?.json", "dir/t1.json", True),
])
def test_glob_semantics(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


def test_include_and_exclude_choose_the_templates(tmp_path: Path) -> None:
    root = repo(tmp_path, "include: ['templates/**']\nexclude: ['templates/legacy/**']\n")
    for rel in ("templates/app.yaml", "templates/legacy/old.yaml", "other/x.yaml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(BAD)
    cfg = load_config(start=str(root))
    doc = scan_templates([str(root)], config=cfg)
    assert [i["path"] for i in doc["scan"]["inputs"]] == [str(root / "templates" / "app.yaml")]
    # with no PATH the CLI reviews the repository root, through the same filter
    proc = walens(root / "templates", "scan", "template", "-f", "json", "--fail-on", "never")
    assert [Path(i["path"]).name for i in json.loads(proc.stdout)["scan"]["inputs"]] == ["app.yaml"]


def test_config_and_baseline_files_are_never_reviewed(tmp_path: Path) -> None:
    root = repo(tmp_path, "fail_on: never\n")
    (root / "t.yaml").write_text(BAD)
    doc = scan_templates([str(root)], config=load_config(start=str(root)))
    assert doc["skipped"] == [] and len(doc["scan"]["inputs"]) == 1


def test_loading_the_configuration_imports_no_heavy_module(tmp_path: Path) -> None:
    root = repo(tmp_path, "fail_on: low\n")
    (root / "pyproject.toml").write_text('[tool.walens]\nlang = "ja"\n')
    code = ("import sys; from walens.config import load_config; load_config(); "
            "heavy = [m for m in ('jinja2', 'boto3', 'botocore', 'cfnlint', 'jmespath', 'walens.rules') if m in sys.modules]; "
            "print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_default_config_reads_nothing(tmp_path: Path) -> None:
    root = repo(tmp_path, "fail_on: low\n")
    cfg = default_config(str(root))
    assert cfg.path is None and cfg["fail_on"] == "high" and cfg.root == str(root)


def test_rules_dirs_relative_to_the_config_file(tmp_path: Path) -> None:
    root = repo(tmp_path, "rules_dirs: [my-rules]\n")
    (root / "my-rules").mkdir()
    shutil.copy(REPO / "walens" / "rules" / "cost_optimization" / "COST001.yaml", root / "my-rules" / "COST001.yaml")
    cfg = load_config(start=str(root))
    assert cfg["rules_dirs"] == [str(root / "my-rules")]
    with pytest.raises(Exception, match="duplicate rule ID COST001"):
        load_rules(cfg["rules_dirs"])


def test_changed_since_reviews_only_changed_templates(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin"}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, env=env)

    git("init", "-q", ".")
    for name in ("old.yaml", "edited.yaml"):
        (tmp_path / name).write_text(BAD)
    git("add", ".")
    git("commit", "-qm", "base")
    (tmp_path / "edited.yaml").write_text(BAD + "# changed\n")
    (tmp_path / "new.yaml").write_text(BAD)
    proc = walens(tmp_path, "scan", "template", "-f", "json", "--fail-on", "never", "--changed-since", "HEAD")
    assert sorted(Path(i["path"]).name for i in json.loads(proc.stdout)["scan"]["inputs"]) == ["edited.yaml", "new.yaml"]
    proc = walens(tmp_path, "scan", "template", "--changed-since", "no-such-ref")
    assert proc.returncode == 2 and "--changed-since no-such-ref:" in proc.stderr
