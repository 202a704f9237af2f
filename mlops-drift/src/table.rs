//! The input of profiles and reports: a [`Table`] of named [`Column`]s, numeric or categorical,
//! borrowed from the caller (nothing is copied until a column is profiled or scored).
//!
//! ```
//! use mlops_drift::table::Table;
//!
//! let age = [31.0, 45.0, f64::NAN, 52.0];
//! let country = ["fr", "de", "fr", "it"];
//! let table = Table::new()
//!     .with_numeric("age", &age)?
//!     .with_categorical("country", &country)?;
//! assert_eq!(table.n_rows(), Some(4));
//! assert_eq!(table.columns().len(), 2);
//! # Ok::<(), mlops_drift::DriftError>(())
//! ```

use ndarray::ArrayView1;

use crate::error::{DriftError, Result};

/// The values of one column.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ColumnData<'a> {
    /// Numbers; NaN is a missing value, ±∞ follow the column's
    /// [`InfPolicy`](crate::policy::InfPolicy).
    Numeric(ArrayView1<'a, f64>),
    /// Strings; every value is present.
    Strs(&'a [&'a str]),
    /// Owned strings; every value is present.
    Strings(&'a [String]),
    /// Strings where `None` is a missing value.
    OptStrs(&'a [Option<&'a str>]),
    /// Integer category codes; every value is present. A code's category name is its decimal
    /// form (`7` → `"7"`).
    Codes(&'a [i64]),
    /// Integer category codes where `None` is a missing value.
    OptCodes(&'a [Option<i64>]),
}

impl ColumnData<'_> {
    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Numeric(v) => v.len(),
            Self::Strs(v) => v.len(),
            Self::Strings(v) => v.len(),
            Self::OptStrs(v) => v.len(),
            Self::Codes(v) => v.len(),
            Self::OptCodes(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the column is numeric.
    #[must_use]
    pub fn is_numeric(&self) -> bool {
        matches!(self, Self::Numeric(_))
    }

    /// Calls `f` with every categorical value (`None` for a missing one). Does nothing for a
    /// numeric column.
    pub(crate) fn for_each_category(&self, mut f: impl FnMut(Option<&str>)) {
        match self {
            Self::Numeric(_) => {}
            Self::Strs(v) => v.iter().for_each(|s| f(Some(s))),
            Self::Strings(v) => v.iter().for_each(|s| f(Some(s))),
            Self::OptStrs(v) => v.iter().for_each(|s| f(*s)),
            Self::Codes(v) => {
                let mut buf = String::new();
                for c in *v {
                    buf.clear();
                    use std::fmt::Write as _;
                    let _ = write!(buf, "{c}");
                    f(Some(&buf));
                }
            }
            Self::OptCodes(v) => {
                let mut buf = String::new();
                for c in *v {
                    match c {
                        Some(c) => {
                            buf.clear();
                            use std::fmt::Write as _;
                            let _ = write!(buf, "{c}");
                            f(Some(&buf));
                        }
                        None => f(None),
                    }
                }
            }
        }
    }
}

/// A named column.
#[derive(Debug, Clone)]
pub struct Column<'a> {
    name: String,
    data: ColumnData<'a>,
}

impl<'a> Column<'a> {
    /// A column from its name and values.
    #[must_use]
    pub fn new(name: impl Into<String>, data: ColumnData<'a>) -> Self {
        Self {
            name: name.into(),
            data,
        }
    }

    /// The column's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column's values.
    #[must_use]
    pub fn data(&self) -> &ColumnData<'a> {
        &self.data
    }
}

/// Named columns of equal length. Names are unique.
#[derive(Debug, Clone, Default)]
pub struct Table<'a> {
    columns: Vec<Column<'a>>,
}

impl<'a> Table<'a> {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a column.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] for a duplicate or empty name, [`DriftError::Shape`] when
    /// its length differs from the columns already in the table.
    pub fn push(&mut self, column: Column<'a>) -> Result<()> {
        if column.name.is_empty() {
            return Err(DriftError::InvalidParameter {
                name: "column",
                reason: "a column name must not be empty".to_owned(),
            });
        }
        if self.get(&column.name).is_some() {
            return Err(DriftError::InvalidParameter {
                name: "column",
                reason: format!("duplicate column name `{}`", column.name),
            });
        }
        if let Some(n) = self.n_rows()
            && n != column.data.len()
        {
            return Err(DriftError::Shape {
                reason: format!(
                    "column `{}` has {} rows, the table has {n}",
                    column.name,
                    column.data.len()
                ),
            });
        }
        self.columns.push(column);
        Ok(())
    }

    /// Adds a column (builder form of [`Table::push`]).
    ///
    /// # Errors
    /// As [`Table::push`].
    pub fn with(mut self, column: Column<'a>) -> Result<Self> {
        self.push(column)?;
        Ok(self)
    }

    /// Adds a numeric column from a slice.
    ///
    /// # Errors
    /// As [`Table::push`].
    pub fn with_numeric(self, name: impl Into<String>, values: &'a [f64]) -> Result<Self> {
        self.with(Column::new(
            name,
            ColumnData::Numeric(ArrayView1::from(values)),
        ))
    }

    /// Adds a numeric column from an `ndarray` view (any stride).
    ///
    /// # Errors
    /// As [`Table::push`].
    pub fn with_numeric_view(
        self,
        name: impl Into<String>,
        values: ArrayView1<'a, f64>,
    ) -> Result<Self> {
        self.with(Column::new(name, ColumnData::Numeric(values)))
    }

    /// Adds a categorical column of strings.
    ///
    /// # Errors
    /// As [`Table::push`].
    pub fn with_categorical(self, name: impl Into<String>, values: &'a [&'a str]) -> Result<Self> {
        self.with(Column::new(name, ColumnData::Strs(values)))
    }

    /// Adds a categorical column of integer codes.
    ///
    /// # Errors
    /// As [`Table::push`].
    pub fn with_codes(self, name: impl Into<String>, values: &'a [i64]) -> Result<Self> {
        self.with(Column::new(name, ColumnData::Codes(values)))
    }

    /// The columns, in insertion order.
    #[must_use]
    pub fn columns(&self) -> &[Column<'a>] {
        &self.columns
    }

    /// The column named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Column<'a>> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The number of rows, or `None` for a table without columns.
    #[must_use]
    pub fn n_rows(&self) -> Option<usize> {
        self.columns.first().map(|c| c.data.len())
    }
}
