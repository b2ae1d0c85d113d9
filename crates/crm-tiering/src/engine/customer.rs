//! Who a customer is: an owned [`Customer`] or a borrowed [`CustomerRef`].

use serde::{Deserialize, Serialize};

use crate::rules::CustomerKind;

/// Who a customer is, for rule selection and error messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Customer {
    /// The customer id (客户号).
    pub id: String,
    /// The legal entity (法人机构号), for rule selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_entity: Option<String>,
    /// Personal or corporate.
    #[serde(default)]
    pub kind: CustomerKind,
}

impl Customer {
    /// A personal customer of no particular legal entity.
    pub fn personal(id: impl Into<String>) -> Self {
        Customer { id: id.into(), legal_entity: None, kind: CustomerKind::Personal }
    }
}

impl From<CustomerRef<'_>> for Customer {
    fn from(c: CustomerRef<'_>) -> Self {
        Customer { id: c.id.to_string(), legal_entity: c.legal_entity.map(str::to_string), kind: c.kind }
    }
}

impl Customer {
    /// The customer as a borrowed identity.
    pub fn borrowed(&self) -> CustomerRef<'_> {
        CustomerRef { id: &self.id, legal_entity: self.legal_entity.as_deref(), kind: self.kind }
    }
}

/// A customer's identity as a batch reads it: an owned [`Customer`] or a borrowed
/// [`CustomerRef`] (so that callers holding ids in their own buffers need not copy them).
pub trait CustomerIdentity {
    /// The customer id.
    fn id(&self) -> &str;
    /// The legal entity, for rule selection.
    fn legal_entity(&self) -> Option<&str>;
    /// Personal or corporate.
    fn kind(&self) -> CustomerKind;
}

impl<T: CustomerIdentity + ?Sized> CustomerIdentity for &T {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn legal_entity(&self) -> Option<&str> {
        (**self).legal_entity()
    }
    fn kind(&self) -> CustomerKind {
        (**self).kind()
    }
}

impl CustomerIdentity for Customer {
    fn id(&self) -> &str {
        &self.id
    }
    fn legal_entity(&self) -> Option<&str> {
        self.legal_entity.as_deref()
    }
    fn kind(&self) -> CustomerKind {
        self.kind
    }
}

/// A borrowed customer identity, for batches over ids the caller already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomerRef<'a> {
    /// The customer id (客户号).
    pub id: &'a str,
    /// The legal entity (法人机构号), for rule selection.
    pub legal_entity: Option<&'a str>,
    /// Personal or corporate.
    pub kind: CustomerKind,
}

impl CustomerIdentity for CustomerRef<'_> {
    fn id(&self) -> &str {
        self.id
    }
    fn legal_entity(&self) -> Option<&str> {
        self.legal_entity
    }
    fn kind(&self) -> CustomerKind {
        self.kind
    }
}
