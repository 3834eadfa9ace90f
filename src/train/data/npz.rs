//! `.npz` archives (zip archives of `.npy` members, as `numpy.savez` and `savez_compressed`
//! write them) and folders of `.npy` files; both hold the arrays `x_train, y_train, x_test,
//! y_test`, or `x, y` (then split by [`split::hold_out`]).

use super::limits::Budget;
use super::split::{self, Part};
use super::DataError;
use crate::tensor::{decode_npy, NpyError, Tensor};
use std::path::Path;

/// Files of a folder with both splits, in the order `x_train, y_train, x_test, y_test`.
pub(super) const SPLIT_NPY: [&str; 4] = ["x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy"];
/// Files of a folder with one `x, y` pair.
pub(super) const WHOLE_NPY: [&str; 2] = ["x.npy", "y.npy"];

/// Decodes one `.npy` image (binary32 output charged to the budget). For labels, an integer
/// binary32 cannot hold exactly is reported as an out-of-range label.
fn decode(at: &str, bytes: &[u8], budget: &mut Budget, labels: bool) -> Result<Tensor, DataError> {
    let loaded = decode_npy(bytes, budget.f32_elements_left()).map_err(|error| match error {
        NpyError::InexactInt { index, value, .. } if labels => DataError::BadLabel {
            at: at.to_string(),
            index,
            value: value.to_string(),
            problem: if value < 0 { "is negative" } else { "is out of range: labels must be below 65536" },
        },
        NpyError::TooManyElements { count, .. } => budget.too_large(at, (count as u64).saturating_mul(4)),
        error => DataError::Npy { at: at.to_string(), error },
    })?;
    budget.charge(at, 4 * loaded.tensor.len() as u64)?;
    Ok(loaded.tensor)
}

/// Builds the splits from decoded arrays, each with the name of its file or member, in the
/// order of [`SPLIT_NPY`] (four arrays) or [`WHOLE_NPY`] (two); `at` is their folder or archive.
fn assemble(at: &str, arrays: Vec<(String, Tensor)>) -> Result<(Part, Part), DataError> {
    let part = |(at_x, x): (String, Tensor), (at_y, y): (String, Tensor)| split::from_arrays(&at_x, x, &at_y, y);
    let mut it = arrays.into_iter();
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(x), Some(y), None, None) => split::hold_out(part(x, y)?),
        (Some(x_train), Some(y_train), Some(x_test), Some(y_test)) => {
            Ok((part(x_train, y_train)?, part(x_test, y_test)?))
        }
        _ => Err(DataError::Invalid { at: at.to_string(), problem: "expected 2 or 4 arrays".to_string() }),
    }
}

/// Reads a folder's `.npy` files, `names` being [`SPLIT_NPY`] or [`WHOLE_NPY`].
pub(super) fn load_npy_folder(dir: &Path, names: &[&str], budget: &mut Budget) -> Result<(Part, Part), DataError> {
    let missing: Vec<&str> = names.iter().copied().filter(|n| !dir.join(n).is_file()).collect();
    if !missing.is_empty() {
        return Err(DataError::Missing {
            at: dir.display().to_string(),
            missing: missing.join(", "),
            looked_for: format!("{}, or {}", SPLIT_NPY.join(", "), WHOLE_NPY.join(", ")),
        });
    }
    let mut arrays = Vec::with_capacity(names.len());
    for (k, name) in names.iter().enumerate() {
        let path = dir.join(name);
        let bytes = budget.read_file(&path)?;
        let at = path.display().to_string();
        arrays.push((at.clone(), decode(&at, &bytes, budget, k % 2 == 1)?));
    }
    assemble(&dir.display().to_string(), arrays)
}

/// Reads a `.npz` file.
pub(super) fn load_npz_file(path: &Path, budget: &mut Budget) -> Result<(Part, Part), DataError> {
    let bytes = budget.read_file(path)?;
    load_npz_bytes(&path.display().to_string(), &bytes, budget)
}

/// Reads a `.npz` image held in memory; `at` names it in messages.
pub(super) fn load_npz_bytes(at: &str, bytes: &[u8], budget: &mut Budget) -> Result<(Part, Part), DataError> {
    let zip_error = |at: &str, e: zip::result::ZipError| DataError::Zip { at: at.to_string(), message: e.to_string() };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| zip_error(at, e))?;
    // A key is stored as `key.npy` (as numpy writes it) or as `key`.
    let find = |archive: &zip::ZipArchive<_>, key: &str| {
        let name = format!("{key}.npy");
        archive
            .index_for_name(&name)
            .map(|i| (i, name))
            .or_else(|| archive.index_for_name(key).map(|i| (i, key.into())))
    };
    let split_keys = SPLIT_NPY.map(|n| n.trim_end_matches(".npy"));
    let whole_keys = WHOLE_NPY.map(|n| n.trim_end_matches(".npy"));
    let keys: &[&str] = if split_keys.iter().any(|k| find(&archive, k).is_some()) {
        &split_keys
    } else if whole_keys.iter().any(|k| find(&archive, k).is_some()) {
        &whole_keys
    } else {
        let members: Vec<String> =
            archive.file_names().map(|n| n.map_or_else(|e| e.to_string(), String::from)).collect();
        return Err(DataError::Missing {
            at: at.to_string(),
            missing: "the arrays x_train, y_train, x_test, y_test (or x, y)".to_string(),
            looked_for: format!(
                "members {}, or {}; the archive holds: {}",
                SPLIT_NPY.join(", "),
                WHOLE_NPY.join(", "),
                members.join(", ")
            ),
        });
    };
    let found: Vec<_> = keys.iter().map(|k| find(&archive, k)).collect();
    let missing: Vec<String> =
        keys.iter().zip(&found).filter(|(_, f)| f.is_none()).map(|(k, _)| format!("{k}.npy")).collect();
    if !missing.is_empty() {
        return Err(DataError::Missing {
            at: at.to_string(),
            missing: missing.join(", "),
            looked_for: format!("members {}, or {}", SPLIT_NPY.join(", "), WHOLE_NPY.join(", ")),
        });
    }
    let mut arrays = Vec::with_capacity(keys.len());
    for (k, (index, name)) in found.into_iter().flatten().enumerate() {
        let member_at = format!("{at}: {name}");
        let mut member = archive.by_index(index).map_err(|e| zip_error(&member_at, e))?;
        let declared = member.size();
        let bytes = budget.read_member(&member_at, &mut member, declared)?;
        drop(member);
        arrays.push((member_at.clone(), decode(&member_at, &bytes, budget, k % 2 == 1)?));
    }
    assemble(at, arrays)
}
