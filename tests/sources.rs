//! `source.files` end to end: folders that cannot be listed, the pipeline's own files below the
//! root, sinks that would overwrite a document.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_of_engine, engine, engine_on, stderr, stdout};
use serde_json::Value;

/// Four documents in `src`, three in `src/sub`.
fn seven_documents(src: &Path) {
    fs::create_dir_all(src.join("sub")).unwrap();
    for i in 1..=4 {
        fs::write(
            src.join(format!("d{i}.md")),
            format!("# Doc {i}\n\nAlpha text number {i}.\n"),
        )
        .unwrap();
    }
    for i in 5..=7 {
        fs::write(
            src.join(format!("sub/s{i}.md")),
            format!("# Sub {i}\n\nBeta text number {i}.\n"),
        )
        .unwrap();
    }
}

/// The tester's pipeline over `path`: parse, chunk, embed (hash), index, and a sink of parse.
fn pipeline(path: &str) -> String {
    format!(
        "version: 1\nname: unlisted\nsteps:\n  src: {{ op: source.files, path: \"{path}\" }}\n  parse: {{ op: parse, input: src }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 200 }}\n  embed: {{ op: embed, input: chunk, provider: hash }}\n  index: {{ op: index.hybrid, input: embed }}\n  out: {{ op: sink.jsonl, input: parse, path: out/p.jsonl }}\n"
    )
}

/// The doc_ids the index holds (a BM25 query every document matches).
fn indexed(engine_bin: &Path, dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = indexed_texts(engine_bin, dir)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The doc id and text of every chunk of the index whose text holds "text number".
fn indexed_texts(engine_bin: &Path, dir: &Path) -> Vec<(String, String)> {
    let output = Command::new(engine_bin)
        .arg("query")
        .arg(dir.join("pipeline.yaml"))
        .args([
            "--index",
            "index",
            "--mode",
            "bm25",
            "-k",
            "50",
            "--json",
            "text number",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let hits: Value = serde_json::from_slice(&output.stdout).unwrap();
    (hits["hits"].as_array().unwrap().iter())
        .map(|hit| {
            let text = |key: &str| hit[key].as_str().unwrap().to_owned();
            (text("doc_id"), text("text"))
        })
        .collect()
}

/// The doc_ids of a sink's lines, sorted.
fn sink_ids(path: &Path) -> Vec<String> {
    let mut ids: Vec<String> = common::lines(path)
        .iter()
        .map(|line| line["doc_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn all_seven() -> Vec<String> {
    let mut ids: Vec<String> = (1..=4)
        .map(|i| format!("d{i}.md"))
        .chain((5..=7).map(|i| format!("sub/s{i}.md")))
        .collect();
    ids.sort();
    ids
}

fn run(engine_bin: &Path, dir: &Path) -> (Option<i32>, Value) {
    run_with(engine_bin, dir, &[])
}

/// [`run`] with more arguments.
fn run_with(engine_bin: &Path, dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let output = Command::new(engine_bin)
        .args(["run", "--json"])
        .args(args)
        .arg(dir.join("pipeline.yaml"))
        .output()
        .unwrap();
    let summary = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("no JSON summary; stderr: {}", stderr(&output)));
    (output.status.code(), summary)
}

/// A subfolder that cannot be listed (its path is longer than the system takes: the pipeline
/// names the same root with enough `./` before it) fails every document below it: they stay in
/// the index and the sink as the last run left them, and the run says what it could not list.
/// ENAMETOOLONG stops root as it stops anyone, so this runs the same in CI as root.
#[test]
fn documents_under_a_folder_that_cannot_be_listed_stay_in_the_index_and_the_sink() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    seven_documents(&dir.join("src"));
    fs::rename(
        dir.join("src/sub"),
        dir.join("src/sub-folder-whose-name-is-long"),
    )
    .unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_engine"));
    fs::write(dir.join("pipeline.yaml"), pipeline("src")).unwrap();
    let (code, summary) = run(&bin, dir);
    assert_eq!(code, Some(0), "{summary}");
    let seven: Vec<String> = all_seven()
        .iter()
        .map(|id| id.replace("sub/", "sub-folder-whose-name-is-long/"))
        .collect();
    assert_eq!(indexed(&bin, dir), seven);
    assert_eq!(sink_ids(&dir.join("out/p.jsonl")), seven);

    // The same root, named so that `src/d1.md` can be read but the subfolder not listed.
    let absolute = dir.display().to_string();
    let padding = "./".repeat((4070 - absolute.len() - 4) / 2);
    assert!(absolute.len() + 1 + padding.len() + "src/d1.md".len() < 4095);
    assert!(absolute.len() + 1 + padding.len() + "src/sub-folder-whose-name-is-long".len() > 4096);
    fs::write(
        dir.join("pipeline.yaml"),
        pipeline(&format!("{padding}src")),
    )
    .unwrap();
    let (code, summary) = run(&bin, dir);
    assert_eq!(code, Some(1), "{summary}");
    let errors = summary["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{summary}");
    assert_eq!(errors[0]["doc_id"], "sub-folder-whose-name-is-long/");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot list"),
        "{summary}"
    );
    assert_eq!(
        indexed(&bin, dir),
        seven,
        "nothing below it is taken as gone"
    );
    assert_eq!(sink_ids(&dir.join("out/p.jsonl")), seven);

    // Listed again and with a document removed, the removal is seen.
    fs::remove_file(dir.join("src/sub-folder-whose-name-is-long/s5.md")).unwrap();
    fs::write(dir.join("pipeline.yaml"), pipeline("src")).unwrap();
    let (code, summary) = run(&bin, dir);
    assert_eq!(code, Some(0), "{summary}");
    let six: Vec<String> = seven
        .iter()
        .filter(|id| !id.ends_with("s5.md"))
        .cloned()
        .collect();
    assert_eq!(indexed(&bin, dir), six);
    assert_eq!(sink_ids(&dir.join("out/p.jsonl")), six);
}

/// A source folder found empty (a drive not mounted, files moved away) where the last
/// completed run read documents fails as a whole: the index and the sink keep them, run after
/// run, until `--allow-empty` says the removal is meant. After that, an empty folder is fine.
#[test]
fn an_emptied_source_folder_keeps_the_index_and_sink_until_allow_empty() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    seven_documents(&dir.join("src"));
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_engine"));
    fs::write(dir.join("pipeline.yaml"), pipeline("src")).unwrap();
    let (code, first) = run(&bin, dir);
    assert_eq!(code, Some(0), "{first}");

    fs::rename(dir.join("src"), dir.join("away")).unwrap();
    fs::create_dir(dir.join("src")).unwrap();
    // Runs keeping only the newest run keep the one the guard compares with too.
    for _ in 0..3 {
        let (code, summary) = run_with(&bin, dir, &["--keep-runs", "1"]);
        assert_eq!(code, Some(1), "{summary}");
        let errors = summary["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{summary}");
        assert_eq!(
            (&errors[0]["step"], &errors[0]["doc_id"]),
            (&"src".into(), &"".into())
        );
        let message = errors[0]["message"].as_str().unwrap();
        let expected = format!(
            "where run {} read 7 documents",
            first["run_id"].as_str().unwrap()
        );
        assert!(message.contains(&expected), "{message}");
        assert!(message.contains("--allow-empty"), "{message}");
        // The source as a whole is one entry in, failed: its counters add up.
        let counters = &summary["steps"]["src"];
        let count = |name: &str| counters[name].as_u64();
        assert_eq!(
            (count("in"), count("out"), count("failed")),
            (Some(1), Some(0), Some(1)),
            "{summary}"
        );
        assert_eq!(indexed(&bin, dir), all_seven(), "the index keeps them");
        assert_eq!(sink_ids(&dir.join("out/p.jsonl")), all_seven());
    }
    // The source step renamed, the same folder still empty: still guarded (by what it reads).
    let renamed = pipeline("src")
        .replace("  src: {", "  files: {")
        .replace("input: src", "input: files");
    fs::write(dir.join("pipeline.yaml"), renamed).unwrap();
    let (code, summary) = run_with(&bin, dir, &["--keep-runs", "1"]);
    assert_eq!(code, Some(1), "{summary}");
    assert_eq!(summary["errors"][0]["step"], "files", "{summary}");
    assert_eq!(indexed(&bin, dir), all_seven(), "the index keeps them");

    let (code, summary) = run_with(&bin, dir, &["--allow-empty"]);
    assert_eq!(code, Some(0), "{summary}");
    assert!(indexed(&bin, dir).is_empty(), "the removal was meant");
    assert!(sink_ids(&dir.join("out/p.jsonl")).is_empty());
    let (code, summary) = run(&bin, dir);
    assert_eq!(
        code,
        Some(0),
        "the last completed run read nothing: {summary}"
    );
}

/// Two folders with files of the same names feeding one step: without `id_prefix` their ids
/// clash (an error, the index and the output file keep one of each pair, and the message names
/// the setting);
/// with it on one source every file is indexed under its own id, a folder that cannot be
/// listed keeps the prefixed ids below it, and a control character in it is refused.
#[test]
fn an_id_prefix_keeps_two_sources_files_of_one_name_apart() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    for (folder, word) in [("a", "alpha"), ("b", "beta")] {
        fs::create_dir_all(dir.join(folder).join("sub")).unwrap();
        fs::write(
            dir.join(folder).join("x.md"),
            format!("# X\n\n{word} text number one.\n"),
        )
        .unwrap();
        fs::write(
            dir.join(folder).join("sub/y.md"),
            format!("# Y\n\n{word} text number two.\n"),
        )
        .unwrap();
    }
    let yaml = |b: &str, prefix: &str| {
        format!(
            "version: 1\nname: two\nsteps:\n  sa: {{ op: source.files, path: a }}\n  sb: {{ op: source.files, path: \"{b}\"{prefix} }}\n  parse: {{ op: parse, input: [sa, sb] }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 200 }}\n  embed: {{ op: embed, input: chunk, provider: hash }}\n  index: {{ op: index.hybrid, input: embed }}\n  out: {{ op: sink.jsonl, input: parse, path: out/p.jsonl }}\n"
        )
    };
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_engine"));
    fs::write(dir.join("pipeline.yaml"), yaml("b", "")).unwrap();
    let (code, summary) = run(&bin, dir);
    assert_eq!(code, Some(1), "{summary}");
    assert!(
        summary["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("give each source an `id_prefix`"),
        "{summary}"
    );
    assert_eq!(indexed(&bin, dir), ["sub/y.md", "x.md"]);
    // The output file keeps one of each pair too, the same whichever source is read first,
    // and says so for the other.
    let sink_errors = |summary: &serde_json::Value| {
        (summary["errors"].as_array().unwrap().iter())
            .filter(|error| error["step"] == "out")
            .count()
    };
    assert_eq!(sink_errors(&summary), 2, "{summary}");
    let output = fs::read_to_string(dir.join("out/p.jsonl")).unwrap();
    assert_eq!(sink_ids(&dir.join("out/p.jsonl")), ["sub/y.md", "x.md"]);
    // The index keeps the same ones.
    let in_output = |id: &str, word: &str| {
        common::lines(&dir.join("out/p.jsonl"))
            .iter()
            .any(|line| line["doc_id"] == id && line.to_string().contains(word))
    };
    for (id, text) in indexed_texts(&bin, dir) {
        let word = if text.contains("alpha") {
            "alpha"
        } else {
            "beta"
        };
        assert!(in_output(&id, word), "{id}: the index keeps {text:?}");
    }
    let swapped = yaml("b", "").replace("[sa, sb]", "[sb, sa]");
    // Nothing changed in the documents, whichever source comes first: the index does nothing
    // (it indexed the other version and put the kept one back, graph rebuilt, every run the
    // two came in the other order).
    for pipeline in [swapped, yaml("b", "")] {
        fs::write(dir.join("pipeline.yaml"), pipeline).unwrap();
        let (code, summary) = run(&bin, dir);
        assert_eq!((code, sink_errors(&summary)), (Some(1), 2), "{summary}");
        assert_eq!(fs::read_to_string(dir.join("out/p.jsonl")).unwrap(), output);
        let outcome = &summary["steps"]["index"]["outcome"];
        assert_eq!(outcome["documents_indexed"], 0, "{outcome}");
        assert_eq!(outcome["graph_rebuilt"], false, "{outcome}");
    }

    fs::write(dir.join("pipeline.yaml"), yaml("b", ", id_prefix: b/")).unwrap();
    let (code, summary) = run(&bin, dir);
    assert_eq!(code, Some(0), "{summary}");
    let four = ["b/sub/y.md", "b/x.md", "sub/y.md", "x.md"];
    assert_eq!(indexed(&bin, dir), four);
    assert_eq!(sink_ids(&dir.join("out/p.jsonl")), four);

    // `b/sub` cannot be listed (the ENAMETOOLONG trick of the test above): its document
    // fails under its prefixed id and stays.
    fs::rename(
        dir.join("b/sub"),
        dir.join("b/sub-folder-whose-name-is-long"),
    )
    .unwrap();
    let (code, _) = run(&bin, dir);
    assert_eq!(code, Some(0));
    let absolute = dir.display().to_string();
    let padding = "./".repeat((4070 - absolute.len() - 4) / 2);
    let padded = yaml(&format!("{padding}b"), ", id_prefix: b/");
    fs::write(dir.join("pipeline.yaml"), padded).unwrap();
    let (code, summary) = run(&bin, dir);
    assert_eq!(code, Some(1), "{summary}");
    assert_eq!(
        summary["errors"][0]["doc_id"], "b/sub-folder-whose-name-is-long/",
        "{summary}"
    );
    let kept = [
        "b/sub-folder-whose-name-is-long/y.md",
        "b/x.md",
        "sub/y.md",
        "x.md",
    ];
    assert_eq!(indexed(&bin, dir), kept);

    fs::write(
        dir.join("pipeline.yaml"),
        yaml("b", ", id_prefix: \"b\\t\""),
    )
    .unwrap();
    let output = Command::new(&bin)
        .args(["validate"])
        .arg(dir.join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("key `id_prefix`"),
        "{}",
        stderr(&output)
    );
}

/// Builds an `engine` command with the given arguments.
type EngineAs = dyn Fn(&[&str]) -> Command;

/// The binary, and how to run it as a user that permissions stop: this process's own user
/// when it is not root; as root, `nobody` through `setpriv`, on a copy of the binary (the
/// build folder may be closed to others) in `dir`, which is handed to `nobody`. `None` when
/// running as root without `setpriv`.
fn unprivileged(dir: &Path) -> Option<Box<EngineAs>> {
    let probe = dir.join(".uid");
    fs::write(&probe, "").unwrap();
    let root = fs::metadata(&probe).unwrap().uid() == 0;
    fs::remove_file(&probe).unwrap();
    if !root {
        return Some(Box::new(|args: &[&str]| {
            let mut command = engine();
            command.args(args);
            command
        }));
    }
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|path| Path::new(path).exists())?;
    let bin = dir.join("engine");
    copy_of_engine(&bin);
    Some(Box::new(move |args: &[&str]| {
        let mut command = Command::new(setpriv);
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(args);
        command
    }))
}

/// Hands `path` and everything below it to `nobody` when running as root.
fn give_away(path: &Path) {
    if fs::metadata(path).unwrap().uid() != 0 {
        return;
    }
    for entry in walkdir::WalkDir::new(path) {
        let entry = entry.unwrap();
        std::os::unix::fs::chown(entry.path(), Some(65534), Some(65534)).unwrap();
    }
}

fn mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The tester's repro: `chmod 000` on the source folder, then on a subfolder, as a user that
/// permissions stop. The whole source failing keeps everything; the subfolder, its documents.
#[test]
fn a_source_folder_or_subfolder_made_unreadable_keeps_its_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    mode(dir, 0o755);
    let Some(engine_as) = unprivileged(dir) else {
        eprintln!("running as root without setpriv: skipped (see the ENAMETOOLONG test)");
        return;
    };
    seven_documents(&dir.join("src"));
    fs::write(dir.join("pipeline.yaml"), pipeline("src")).unwrap();
    give_away(dir);
    let file = dir.join("pipeline.yaml");
    let file = file.to_str().unwrap();
    let run = |expected: i32| {
        let output = engine_as(&["run", "--json", file]).output().unwrap();
        assert_eq!(output.status.code(), Some(expected), "{}", stderr(&output));
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    let indexed = || {
        let output = engine_as(&[
            "query",
            file,
            "--index",
            "index",
            "--mode",
            "bm25",
            "-k",
            "50",
            "--json",
            "text number",
        ])
        .output()
        .unwrap();
        let hits: Value = serde_json::from_slice(&output.stdout).unwrap();
        let mut ids: Vec<String> = hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["doc_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    run(0);
    assert_eq!(indexed(), all_seven());

    mode(&dir.join("src"), 0o000);
    let summary = run(1);
    mode(&dir.join("src"), 0o755);
    assert!(
        summary["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be listed"),
        "{summary}"
    );
    assert_eq!(indexed(), all_seven());
    assert_eq!(sink_ids(&dir.join("out/p.jsonl")), all_seven());

    mode(&dir.join("src/sub"), 0o000);
    let summary = run(1);
    mode(&dir.join("src/sub"), 0o755);
    assert_eq!(summary["errors"][0]["doc_id"], "sub/", "{summary}");
    assert_eq!(indexed(), all_seven());
    assert_eq!(sink_ids(&dir.join("out/p.jsonl")), all_seven());
}

/// A pipeline reading its own folder never reads its own file or what it writes there: its
/// sink's `.partial` file (with `out/` missing or empty, the pipeline named relative to the
/// working folder), its store (the checkpoints, the index generations).
#[test]
fn a_source_over_the_pipelines_folder_never_reads_the_files_the_run_writes() {
    for (format, make_out) in [("", false), ("", true), (", format: text", true)] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::write(dir.join("a.md"), "# A\n\nAlpha text.\n").unwrap();
        fs::write(dir.join("b.txt"), "Beta text.\n").unwrap();
        if make_out {
            fs::create_dir_all(dir.join("out")).unwrap();
        }
        fs::write(
            dir.join("pipeline.yaml"),
            format!(
                "version: 1\nname: own\nstore: state\nsteps:\n  docs: {{ op: source.files, path: . }}\n  parse: {{ op: parse, input: docs{format} }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 200 }}\n  embed: {{ op: embed, input: chunk, provider: hash }}\n  index: {{ op: index.hybrid, input: embed }}\n  out: {{ op: sink.jsonl, input: parse, path: out/p.jsonl }}\n"
            ),
        )
        .unwrap();
        for _ in 0..2 {
            let output = engine()
                .current_dir(dir)
                .args(["run", "--json", "./pipeline.yaml"])
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(summary["errors"], serde_json::json!([]), "{summary}");
            assert_eq!(
                sink_ids(&dir.join("out/p.jsonl")),
                ["a.md", "b.txt"],
                "{format} {make_out}"
            );
        }
    }
}

/// A sink whose file is a document of a source of the pipeline is refused before anything
/// runs, naming the line and key; the document is left as it was. A sink's own earlier output
/// below the root is replaced as before.
#[test]
fn a_sink_that_would_overwrite_a_document_below_a_source_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::create_dir_all(dir.join("d5")).unwrap();
    fs::write(dir.join("d5/a.md"), "# precious\n").unwrap();
    fs::write(dir.join("d5/b.md"), "# other\n").unwrap();
    let yaml = "version: 1\nname: s\nsteps:\n  docs: { op: source.files, path: d5 }\n  parse: { op: parse, input: docs }\n  o5: { op: sink.jsonl, input: parse, path: d5/a.md }\n";
    for command in ["validate", "run"] {
        let output = engine_on(dir, &[command], yaml);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{command}: {}",
            stdout(&output)
        );
        let text = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            text.contains("pipeline.yaml:6:")
                && text.contains("step `o5`, key `path`")
                && text.contains("`d5/a.md` is a file below the folder step `docs` reads (line 4)")
                && text.contains("help:"),
            "{command}: {text}"
        );
        assert_eq!(
            fs::read_to_string(dir.join("d5/a.md")).unwrap(),
            "# precious\n"
        );
    }
    let output = engine_on(dir, &["validate", "--json"], yaml);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["diagnostics"][0]["key"], "path", "{report}");
    assert_eq!(report["diagnostics"][0]["line"], 6, "{report}");

    // Its own output below the root, run twice: the second run replaces the first's.
    let yaml = "version: 1\nname: s\nsteps:\n  docs: { op: source.files, path: d5 }\n  parse: { op: parse, input: docs }\n  o5: { op: sink.jsonl, input: parse, path: d5/out.jsonl }\n";
    for _ in 0..2 {
        let output = engine_on(dir, &["run"], yaml);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(sink_ids(&dir.join("d5/out.jsonl")), ["a.md", "b.md"]);
    }
}

/// A file's broken records are listed in file order (`docs.jsonl:4` before `docs.jsonl:12`;
/// byte order put `:1000` to `:1009` before `:101`), and the text summary names the first 50,
/// counting the rest (4,000 lines of them buried the table).
#[test]
fn broken_records_are_listed_in_file_order_and_the_text_names_the_first_fifty() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (1..=120)
        .map(|n| match n % 2 {
            0 => format!("{{\"_id\": \"r{n}\", \"text\": \"record {n}\"}}"),
            _ => "{not json".to_owned(),
        })
        .collect();
    fs::write(dir.path().join("docs.jsonl"), lines.join("\n") + "\n").unwrap();
    let yaml = "version: 1\nname: records\nsteps:\n  docs: { op: source.jsonl, path: docs.jsonl }\n  out: { op: sink.jsonl, input: docs, path: out/d.jsonl }\n";
    let output = engine_on(dir.path(), &["run", "--json"], yaml);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = (summary["errors"].as_array().unwrap().iter())
        .map(|error| error["doc_id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (1..=120)
        .step_by(2)
        .map(|n| format!("docs.jsonl:{n}"))
        .collect();
    assert_eq!(ids, expected);
    let output = engine_on(dir.path(), &["run"], yaml);
    let text = stdout(&output);
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 50, "{text}");
    assert!(errors[1].starts_with("error: docs docs.jsonl:3:"), "{text}");
    assert!(text.contains("… and 10 more error(s)"), "{text}");
}
