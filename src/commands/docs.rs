//! `runner docs`: writes the table docs (`docs/tables.md`, `docs/tables/<table>.md`) from the
//! models and checks in the SQL folder, or with `--check` says whether the checked-in docs are
//! what it would write (a test runs that, so CI fails on stale docs).

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::cli::{DocsArgs, Target};
use crate::engine::docs::{PipelineDocs, pages};
use crate::pipelines::{Common, movies, rollup};

pub fn run(args: &DocsArgs) -> Result<()> {
    let pages = generate(&args.migrations_dir)?;
    let stale = stale_pages(&pages, &args.out);
    if args.check {
        if !stale.is_empty() {
            bail!(
                "the docs in {} are not what `runner docs` writes from {} ({}): run `runner docs`",
                args.out.display(),
                args.migrations_dir.display(),
                stale.join(", ")
            );
        }
        println!("docs: {} pages current", pages.len());
        return Ok(());
    }
    std::fs::create_dir_all(args.out.join("tables"))
        .with_context(|| format!("creating {}", args.out.join("tables").display()))?;
    for (path, text) in &pages {
        let path = args.out.join(path);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let orphans = orphan_pages(&pages, &args.out)?;
    for orphan in &orphans {
        std::fs::remove_file(orphan).with_context(|| format!("removing {}", orphan.display()))?;
    }
    println!(
        "docs: wrote {} pages into {} ({} changed, {} removed)",
        pages.len(),
        args.out.display(),
        stale.len(),
        orphans.len()
    );
    Ok(())
}

/// Every page, made from the models, checks and `models/README.md` of each pipeline in `dir`.
pub fn generate(dir: &Path) -> Result<Vec<(String, String)>> {
    if !dir.is_dir() {
        bail!(
            "{}: no such folder: run in the repository, or give --migrations-dir",
            dir.display()
        );
    }
    let common = Common {
        connect_timeout: std::time::Duration::ZERO,
        migrations_dir: Some(dir.to_owned()),
    };
    let mut all = Vec::new();
    for target in Target::ALL {
        let (summary, models, checks) = match target {
            Target::Movies => (
                movies::SUMMARY,
                movies::models(&common)?,
                movies::checks(&common)?,
            ),
            Target::Rollup => (
                rollup::SUMMARY,
                rollup::models(&common)?,
                rollup::checks(&common)?,
            ),
        };
        let readme = dir.join(target.name()).join("models").join("README.md");
        let intro = match std::fs::read_to_string(&readme) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(err).with_context(|| format!("reading {}", readme.display())),
        };
        all.push((target, summary, intro, models, checks));
    }
    let docs: Vec<PipelineDocs<'_>> = all
        .iter()
        .map(|(target, summary, intro, models, checks)| PipelineDocs {
            name: target.name(),
            summary,
            intro: intro.clone(),
            models,
            checks,
        })
        .collect();
    pages(&docs)
}

/// The pages whose file in `out` is missing or different.
fn stale_pages(pages: &[(String, String)], out: &Path) -> Vec<String> {
    pages
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(out.join(path)).ok().as_ref() != Some(text))
        .map(|(path, _)| path.clone())
        .collect()
}

/// Pages in `out/tables/` no model has any more.
fn orphan_pages(pages: &[(String, String)], out: &Path) -> Result<Vec<std::path::PathBuf>> {
    let dir = out.join("tables");
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let relative = format!(
            "tables/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        if path.extension().is_some_and(|e| e == "md") && !pages.iter().any(|(p, _)| *p == relative)
        {
            orphans.push(path);
        }
    }
    Ok(orphans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_in_docs_are_what_runner_docs_writes() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let pages = generate(&root.join("migrations")).unwrap();
        let stale = stale_pages(&pages, &root.join("docs"));
        assert!(
            stale.is_empty(),
            "stale docs: {}: run `cargo run -- docs` and commit the result",
            stale.join(", ")
        );
        assert!(
            orphan_pages(&pages, &root.join("docs")).unwrap().is_empty(),
            "docs/tables/ holds pages of models that are gone: run `cargo run -- docs`"
        );
    }
}
