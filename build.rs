//! Rebuild when a migration or check is added, removed or edited, and embed the data checks.
//! `embed_migrations!` reads the migration folders at compile time; the checks
//! (`migrations/<target>/checks/*.sql`) are listed here into `$OUT_DIR/checks.rs`.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let mut out = String::from(
        "/// (target, check name, SQL) for every embedded check.\npub const EMBEDDED: &[(&str, &str, &str)] = &[\n",
    );
    for target in ["movies", "rollup"] {
        let dir = Path::new("migrations").join(target).join("checks");
        println!("cargo:rerun-if-changed={}", dir.display());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        for path in files {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let absolute = std::fs::canonicalize(&path).unwrap();
            writeln!(
                out,
                "    ({target:?}, {name:?}, include_str!({:?})),",
                absolute.display().to_string()
            )
            .unwrap();
        }
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("checks.rs");
    std::fs::write(dest, out).unwrap();
}
