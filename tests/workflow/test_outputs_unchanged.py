"""The evidence outputs stay byte-identical across refactoring (issue 20).

The bundled demo submission, every format's variant export and a generated 30,000-message
WhatsApp chat are ingested through the command a user runs; the digests of what that
writes are compared with digests recorded before the record path was reshaped:

- ``derived/records/*.jsonl`` and ``*.report.json`` (every parser's records);
- ``manifest.json``, with what belongs to this run's clock and key set aside (each
  exhibit's ``received_at``, ``mtime`` and ``tool``; the signer; the custody head);
- the timeline report as JSON, CSV and HTML, and the panel pack as JSON
  (``SOURCE_DATE_EPOCH`` pins their generated-at time).

A change to a parser's output or to a report is a change of evidence output: it must be
deliberate, with the new digests recorded here and the reason in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers.fixture_scripts import FIXTURES

ROOT = FIXTURES.parent
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z


def _cli(*args: str | Path, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "cyberstalk", *map(str, args)],
        check=True,
        env=env,
        capture_output=True,
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest_digest(path: Path) -> str:
    data: dict[str, Any] = json.loads(path.read_bytes())
    for entry in [*(data.get("exhibits") or []), *(data.get("duplicates") or [])]:
        for key in ("received_at", "mtime", "mtime_ns", "tool"):
            entry.pop(key, None)
    data.pop("signer", None)  # (a key made for this test run)
    data.get("custody_log", {}).pop("head_sha256", None)  # (chains the events' times)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(text).hexdigest()


def _digests(case: Path) -> dict[str, str]:
    out = {}
    for path in sorted((case / "derived" / "records").iterdir()):
        out[f"derived/records/{path.name}"] = _sha(path)
    out["manifest.json (normalised)"] = _manifest_digest(case / "manifest.json")
    return out


def _people(case: Path, env: dict[str, str]) -> None:
    _cli("case", "person", "add", case, "--name", "Carys Hughes", "--role", "victim",
         "--id", "phone:+447700900123", "--id", "email:carys.hughes@example.com",
         "--id", "display_name:Carys@whatsapp", env=env)  # fmt: skip
    _cli("case", "person", "add", case, "--name", "Dylan Price", "--role", "suspect",
         "--id", "phone:+447700900456", "--id", "phone:+447700900789",
         "--id", "email:dylan.price@example.net", "--id", "display_name:Dylan@whatsapp",
         "--id", "username:dylan.p_example@instagram", env=env)  # fmt: skip


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("unchanged")
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "XDG_CONFIG_HOME": str(tmp / "config")}
    subprocess.run(
        [sys.executable, str(FIXTURES / "make_fixtures.py"), str(tmp / "fx")],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_whatsapp  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    chat = tmp / "generated" / "WhatsApp Chat with Generated.txt"
    chat.parent.mkdir()
    bench_whatsapp.make_export(chat, 30_000)

    found: dict[str, str] = {}
    cases = {
        "demo": [tmp / "fx" / "submission"],
        "variants": [tmp / "fx" / "variants" / "all-formats"],
        "corpus": [chat.parent],
    }
    for name, paths in cases.items():
        case = tmp / name
        _cli("case", "init", case, "--ref", f"T/{name}", "--officer", "DC Test",
             "--initials", "TT", "--tz", "Europe/London", env=env)  # fmt: skip
        if name == "demo":
            _people(case, env)
        ingest = subprocess.run(
            [sys.executable, "-m", "cyberstalk", "ingest", str(case), *map(str, paths),
             "--source", "test submission"],
            env=env,
            capture_output=True,
        )  # fmt: skip
        assert ingest.returncode in (0, 3), ingest.stderr.decode()
        found.update({f"{name}:{k}": v for k, v in _digests(case).items()})
        if name == "demo":
            reports = case / "reports"
            for fmt in ("json", "csv", "html"):
                _cli("timeline", case, "-f", fmt, "-o", reports / f"t.{fmt}", env=env)
                found[f"demo:timeline.{fmt}"] = _sha(reports / f"t.{fmt}")
            _cli("panel", case, "-f", "json", "-o", reports / "p.json", env=env)
            found["demo:panel.json"] = _sha(reports / "p.json")
    return found


EXPECTED: dict[str, str] = {  # recorded on commit 22491ac, before issue 20's changes
    "corpus:derived/records/TT-1.jsonl": "2cd70f7b1bb3ae5a2356972a815efc555f75b5beb4e94616f47f7d14f3da411d",
    "corpus:derived/records/TT-1.report.json": "5ca0e70fbe2ad05247c1cd75ad2b3a11c2d773a85ec7ff62ba5eb435880de3f8",
    "corpus:manifest.json (normalised)": "f90c946a92856d2a0f61805af09eb1bfee415cbed729100ef055eaa27adbf518",
    "demo:derived/records/TT-1.jsonl": "04197b6ed0e9d07a95b235a4114c6d2e9f1c81caf203db17a089111239d7f426",
    "demo:derived/records/TT-1.report.json": "3a3e27cfb1ec9baa63e2aa8974dd193a32439db67bb86238f038db01231c3ba2",
    "demo:derived/records/TT-10.jsonl": "65601d63fea43df292191fca766b7dd41e5a047d3f105ccd815a6330c02103ae",
    "demo:derived/records/TT-10.report.json": "e1b49356cc69b4a1c248fca91bc2042dbe03357e60e09c7e4799d1f0f9ea0b2e",
    "demo:derived/records/TT-11.jsonl": "36eac65e200d231f7c4b105b9174678314abe0a867e2f23d1c52e93f4b70cd73",
    "demo:derived/records/TT-11.report.json": "324edfdc1affe37ba7dcbd6b25b7876a958cd4ee1d682f695fdfa60d00e7d9db",
    "demo:derived/records/TT-12.jsonl": "b9baa4cbaeffcdb70c5de1d82e347e53b923e350f3cd65a3026fb97d76a3f71f",
    "demo:derived/records/TT-12.report.json": "324edfdc1affe37ba7dcbd6b25b7876a958cd4ee1d682f695fdfa60d00e7d9db",
    "demo:derived/records/TT-13.jsonl": "f7cf0c2f9b47cb31e0f9acc38a38a3019803ec2ecda293a4f7eb1818a5c3bcd2",
    "demo:derived/records/TT-13.report.json": "48e474db3aa78d4d95ce26efb45d732c2af6857678aee5b74e6e3e7104bcc3ee",
    "demo:derived/records/TT-14-1.jsonl": "e23a62c731f0f18faee836f7677785bca50bcc6f580d513cd882b55bc1fa2638",
    "demo:derived/records/TT-14-1.report.json": "576967d6365f2bbee7ec16b0ef0951302e6d374e08924c48e9bd3a9cfbce4f44",
    "demo:derived/records/TT-14-2.jsonl": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "demo:derived/records/TT-14-2.report.json": "ab1caabe938a2f559d3482496a85301b950191bc0475526d72e06f50497ce3ed",
    "demo:derived/records/TT-2.jsonl": "8cd4e2f8c6d598801ed003bd2ce4ffe0f54ec7b0ddfc747af4d76f48369a44bc",
    "demo:derived/records/TT-2.report.json": "996d2cfea950c663020de6e60926cf6d6835bfc3fc9fb35ba0794a900b560a15",
    "demo:derived/records/TT-3.jsonl": "39b30589aafed4e85440eb6dbe0ac40ef3286d87191de09421d2fca25171067b",
    "demo:derived/records/TT-3.report.json": "8fb58c25a3caf857f9c8130f2ed26b34f1969989895732ec9137759a35a8c370",
    "demo:derived/records/TT-4.jsonl": "a731825d01e59b761af0bf2a2cce6f058b18970c16ca930570625ce1c0b6477f",
    "demo:derived/records/TT-4.report.json": "6fc43f127cc784667eb78437a1252ef6fda2a6ae979323d90b04d775eece3ded",
    "demo:derived/records/TT-5.jsonl": "3bf750efb30877e3ea33e3fad7a03e77c77c6a208f275be51ca9d003e6a7ac63",
    "demo:derived/records/TT-5.report.json": "9ffacc0beba73198941d751452468a8cf49e646ef94f75557fce034b52256ab3",
    "demo:derived/records/TT-8.jsonl": "fe174fc94c63135881d05725989bee7ad7af8ec1fc35f61148e4db83491bbea2",
    "demo:derived/records/TT-8.report.json": "917588aa272691ca8a9a3825d93c2fd7bc84d61e2b03e8385c16604f9b0b8243",
    "demo:derived/records/TT-9.jsonl": "9ce3680e9d3cb83bdaee4fbf53ea6423f528d7580a15dc5b61b5035bc4576119",
    "demo:derived/records/TT-9.report.json": "a90a9eb53d9444600ebfd2d8cb8106ac67ac3151c217e12f9376807e778cc982",
    "demo:manifest.json (normalised)": "186cee18a1012219371d00144fa8dc8ce2492f44d0fe1ea2b9fbec15b9cf88af",
    "demo:panel.json": "e4ad6d93938a84fdfdca20a8199f065919ed3a9c44608690866ab756bb1e3f2f",
    "demo:timeline.csv": "39b2d6093c2ee406625c5865ee0797f71ccdcfe5878a83b79b7904116744a443",
    "demo:timeline.html": "c20a4a141ffd8fbe25d3c63123d2eea47786bf42f92e62034b38068de88010ba",
    "demo:timeline.json": "faa49b9b604cb746c479db354bdbd367ce2e2d98f9bf9e75a5806d5abafbcf4d",
    "variants:derived/records/TT-1.jsonl": "74331a7a2d666bdfb998ab57d396427660c207c5a24d9dc6dfcd000559b59e10",
    "variants:derived/records/TT-1.report.json": "36e2f80e693b94d24cce78c7423bf8df5aeaaa3c771e3562eae0a055b8ce29c8",
    "variants:derived/records/TT-10.jsonl": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "variants:derived/records/TT-10.report.json": "ab1caabe938a2f559d3482496a85301b950191bc0475526d72e06f50497ce3ed",
    "variants:derived/records/TT-11.jsonl": "6d461e08b5bc0cbe9eaf15f6b7efce661cb4102aebf765baae7e417d9e768326",
    "variants:derived/records/TT-11.report.json": "6effc41a8f16a31d214c4312b8f965f566d8b6d323fac9d68699fdb632233bbc",
    "variants:derived/records/TT-12.jsonl": "30ded28ec8e03b9c29b79890838e3493e8f95b7a21b242b81a9bdc350f2123d3",
    "variants:derived/records/TT-12.report.json": "996d2cfea950c663020de6e60926cf6d6835bfc3fc9fb35ba0794a900b560a15",
    "variants:derived/records/TT-13.jsonl": "425fcf1b1bd72f2ccf379e940fe1a3a9de46c795ae28bdafadb0c83c98c092ff",
    "variants:derived/records/TT-13.report.json": "8fb58c25a3caf857f9c8130f2ed26b34f1969989895732ec9137759a35a8c370",
    "variants:derived/records/TT-14.jsonl": "5c65034a573e6b0bbe907bf0512123ca4c73cb0427adf7d2385195ff2f7bd272",
    "variants:derived/records/TT-14.report.json": "79c083b5e7d184f1a65976adb577d7cd569df9b8ecf1b8ba17ab0698fc2f8428",
    "variants:derived/records/TT-15.jsonl": "fa15801cd4f8e9549a633588cc49c69c2e834c96370c36a65ab0c47192ee9a63",
    "variants:derived/records/TT-15.report.json": "6fc43f127cc784667eb78437a1252ef6fda2a6ae979323d90b04d775eece3ded",
    "variants:derived/records/TT-16.jsonl": "5d5906d4e1b324be86548322ea9e7596c4e77be44c51cf567e58fceba2c51aec",
    "variants:derived/records/TT-16.report.json": "7190c66faf3ec0f0770124d2fcc36717cfef0e2b130989ab6d82fe7f2fc3222a",
    "variants:derived/records/TT-17.jsonl": "717437b27e69116d1dee0d07a71958a3dbb73dac7e3c7612028bf5d7cfc6457f",
    "variants:derived/records/TT-17.report.json": "0bb92bfb90a88464d1b5fad62fb4c0c317fbbd696af31699ed0d40bc69d487e0",
    "variants:derived/records/TT-18.jsonl": "2f8e821e87050c3d9a6a9fd5ad1468e048d3c44402d7ccb4549c313bfaee73cd",
    "variants:derived/records/TT-18.report.json": "780404a8254969131a35dae77b2573ae7171fc2a09d2294026a44a5db02295e9",
    "variants:derived/records/TT-19.jsonl": "2284db8f9c00f911bd91babf5d3da59f9cc6ca4472393aa36a5837e226f65702",
    "variants:derived/records/TT-19.report.json": "48e474db3aa78d4d95ce26efb45d732c2af6857678aee5b74e6e3e7104bcc3ee",
    "variants:derived/records/TT-20.jsonl": "e21215cf7eae5ca6303c03023e25a052304c978320939d33acbe7aed463a7237",
    "variants:derived/records/TT-20.report.json": "48e474db3aa78d4d95ce26efb45d732c2af6857678aee5b74e6e3e7104bcc3ee",
    "variants:derived/records/TT-21.jsonl": "fd47c5c770c2bad93e15f2b2ae49ee63ea4c6400edb7e0def85cf0419af8f218",
    "variants:derived/records/TT-21.report.json": "bbb7369115d707ad1ff311026c422223e16ea70e51a171a25aa8bff327aa89fd",
    "variants:derived/records/TT-22.jsonl": "d1a9021f0b20eac5e9cb78a7768d02dba82e310c76e68fb2ee6fb1775d1099f5",
    "variants:derived/records/TT-22.report.json": "00c310b0903540ae2bc81ea3f85019f7b2b4affd689af69495e79712afd0b22f",
    "variants:derived/records/TT-23.jsonl": "10ac36619d9fefeaa58060e200768ce1b4caeb41d2143425a096f06e184618f2",
    "variants:derived/records/TT-23.report.json": "ffce891b6f9c17b416641b72bd2fb1204edd8c5cd4e60240acb8f1ffc4a1d243",
    "variants:derived/records/TT-24.jsonl": "13fd65e27170579080c5a97958774b0ec3130803e2b8d82a12f3eaa0af4ede98",
    "variants:derived/records/TT-24.report.json": "6fbb4b317b91de3ad7ee2b86d71b3be768d5e9c49ff038dca97bda65abc9737c",
    "variants:derived/records/TT-25.jsonl": "0d990c359844b4471debbb9f416a8873c9e4c420d173d8da4235a60cb816bebc",
    "variants:derived/records/TT-25.report.json": "722b30afc8432b53e423a81ec4fd8719e07d602287749e6f69e351cc490606d8",
    "variants:derived/records/TT-26.jsonl": "87d1dbaf44c87746652c0cf94222ec6a4a589e0822d5550cbc3d2e294d81c259",
    "variants:derived/records/TT-26.report.json": "a668ca0505e347f6a3462b15c454f69c1d7737046158214f2eee30535742dfe2",
    "variants:derived/records/TT-27.jsonl": "506a6b78bedbddc5cd590bbded60e846e9644d955327d71cad895787bf80a84c",
    "variants:derived/records/TT-27.report.json": "95eee0dd9302aac708950df578398c513a3e58d9f03ba771a7ef27a81cd477f5",
    "variants:derived/records/TT-28.jsonl": "325c27fcec6a8a367549142837cdd8607ff06d30a07ba73826e4a5b79a2f7f4f",
    "variants:derived/records/TT-28.report.json": "4adff7aab70a35090177782ae3e4e247c36cc0d185654f28252e489de37a01d1",
    "variants:derived/records/TT-29.jsonl": "4e939433a6df63ddec030961e8de0974cc80874914b20cee432aead6bae2e83c",
    "variants:derived/records/TT-29.report.json": "d85f2740abeb3d4e60f91f8adab2a2ce58ab87a8d45debad383caa0e07258179",
    "variants:derived/records/TT-30.jsonl": "84be4c9d3af6d6314996f6fc0a61301f7d42cb6e9dee4817048798d19e5ef9ce",
    "variants:derived/records/TT-30.report.json": "7987045fbc07acc466f7fbc826451a1fe6099fd71965eb6e8984d998f29c3712",
    "variants:derived/records/TT-31-1.jsonl": "ce789deed2fac482a33888fde3c91fb3141cbaff44b060ed54ebd99d9bd238df",
    "variants:derived/records/TT-31-1.report.json": "d82da8f9fa8c7ddf4100e74f640c4427ff34f48a4634cc5737d15e608382dff3",
    "variants:derived/records/TT-31-2.jsonl": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "variants:derived/records/TT-31-2.report.json": "ab1caabe938a2f559d3482496a85301b950191bc0475526d72e06f50497ce3ed",
    "variants:derived/records/TT-32.jsonl": "f208724d7db407eee81e7b2ed0ac976c2b624a4c78f87a57e34d2010cd60eee0",
    "variants:derived/records/TT-32.report.json": "a8b9d95d3a1d8892421aa4b05255ebf482be375efe2f388d6d80b4ced6271048",
    "variants:derived/records/TT-33.jsonl": "3423410b1564b97d06a57ab62a4d85a768eacbefab24c3c1b355eab02c90ffbb",
    "variants:derived/records/TT-33.report.json": "0da9bd223a8606d33c3b10b2ffd184afc7f06710259d407603b7e6bbed98b920",
    "variants:derived/records/TT-34.jsonl": "d6048dff9545e7076bdee49f356cb002ab6f334ef6c2bc5e551a3ad7b82124f4",
    "variants:derived/records/TT-34.report.json": "c5ed06c8e4ec92f879f8287257541fcb14154c53e42f6d1d16b884279d64e7ec",
    "variants:derived/records/TT-35.jsonl": "5a86cafff760e9466500cc361d401a208fd08d5a09b31f96b87bec0f8d2f33c5",
    "variants:derived/records/TT-35.report.json": "387dcee2d3b76d1ab67b948e16c12e25b576424f37b49feed2bbf2594ba2dffd",
    "variants:derived/records/TT-36.jsonl": "4fc5bbf96ae6ec9739342b0789d85156777ba56d5e8a336923b1d503768596a9",
    "variants:derived/records/TT-36.report.json": "25099fc491fa0f63eacd5ddcee7c816552e0b6295b89d128e321be25e2e9909e",
    "variants:derived/records/TT-37.jsonl": "aa29821fd0bd45294bdd100cb4a0335ba082eed67e991d4923340a95f3da561b",
    "variants:derived/records/TT-37.report.json": "0a4a655ef34064803d2c9ae41742a6b7d26b29a18b42fbccdf4d7b035f9adabd",
    "variants:derived/records/TT-38-1.jsonl": "914e21299c9186c2e79fe750f23eb0004569e971ea24c8e81bcc3367516098c4",
    "variants:derived/records/TT-38-1.report.json": "576967d6365f2bbee7ec16b0ef0951302e6d374e08924c48e9bd3a9cfbce4f44",
    "variants:derived/records/TT-4.jsonl": "b7ae075ffa5ef19692c0f047b7fdfb1883736755efd859fcddcdc68c506faecd",
    "variants:derived/records/TT-4.report.json": "d418f77b0714ae8e5e62cc5cde4311869e5318f8331320a93aba2e7cfda07812",
    "variants:derived/records/TT-5.jsonl": "9c8b2cf063f2ff3c295d44cac655a375ad69cebb38feaacf4155f2e54e3ac38c",
    "variants:derived/records/TT-5.report.json": "3a3e27cfb1ec9baa63e2aa8974dd193a32439db67bb86238f038db01231c3ba2",
    "variants:derived/records/TT-6.jsonl": "f7abad9628e411b926bf8a79323c82e9c1b28e3ebfd3f8d394b171d0b77269b0",
    "variants:derived/records/TT-6.report.json": "3b5caee414f884281bea074a58a79c2414d0201963b6ad9a67624edd66b5a7c2",
    "variants:derived/records/TT-7.jsonl": "da2c2b9135a4aff376644ba92d44907b4af75b504848b182f3cb948777bd4ea7",
    "variants:derived/records/TT-7.report.json": "3b5caee414f884281bea074a58a79c2414d0201963b6ad9a67624edd66b5a7c2",
    "variants:derived/records/TT-8.jsonl": "67bbaa35fd6a03a8a19c2033a0d5294dbd1c91e3adf6f60fdcfb80d94e8cf976",
    "variants:derived/records/TT-8.report.json": "6effc41a8f16a31d214c4312b8f965f566d8b6d323fac9d68699fdb632233bbc",
    "variants:derived/records/TT-9.jsonl": "6167ac881557395ca4380af5d8dca21e1cd90e146b91180f18198c111b9be2bb",
    "variants:derived/records/TT-9.report.json": "f341bbf83d09f4b27d6ebc03f2ce0d0ee17419df5251c943ebdd6bafde2cbec2",
    "variants:manifest.json (normalised)": "3cd9cb8a2b6b4538609e12bf9fb1872c5c370dba6c3fc5c335d5025e96dbe3ab",
}


def test_outputs_are_byte_identical_to_the_recorded_digests(outputs: dict[str, str]) -> None:
    record = os.environ.get("CYBERSTALK_RECORD_DIGESTS")
    if record:  # (to record new digests deliberately: CYBERSTALK_RECORD_DIGESTS=FILE)
        Path(record).write_text(json.dumps(outputs, indent=4, sort_keys=True) + "\n")
    changed = {k: v for k, v in outputs.items() if EXPECTED.get(k) != v}
    missing = sorted(set(EXPECTED) - set(outputs))
    assert not changed and not missing, (
        "evidence outputs changed:\n"
        + "\n".join(f"    {k!r}: {v!r}," for k, v in sorted(changed.items()))
        + (f"\nno longer written: {missing}" if missing else "")
    )
