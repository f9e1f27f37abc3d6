//! One tag per message on the wire, though messages are grouped by domain in
//! the code.
//!
//! `ClientMsg` and `ServerMsg` hold one enum per domain (session, world, and
//! later combat, social, economy, matching). Encoded as nested enums, every
//! message would carry two tags; instead a message's tag is its domain's base
//! plus its index in the domain's enum, one varint, so a `WorldUpdate` costs
//! the same byte it did when the enums were flat (bench-world's bytes per
//! client stay 4,516/s). Each domain has a range of tags; a domain that
//! outgrows its range fails the example-message test, not a client.
//!
//! The domain enums keep their derived serde; this file only shifts the
//! variant index on the way out and back on the way in.

use serde::de::{self, DeserializeSeed, EnumAccess, IntoDeserializer, VariantAccess, Visitor};
use serde::ser::{self, Impossible, Serialize, Serializer};

/// Serializes a domain enum with its variant index moved up by `base`.
pub(super) fn serialize_shifted<T: Serialize, S: Serializer>(
    value: &T,
    base: u32,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.serialize(Shifted {
        inner: serializer,
        base,
    })
}

/// A variant whose tag has been read already: `index` is its place in its
/// domain's enum. A domain enum's derived `Deserialize` decodes from it.
pub(super) struct DomainVariant<A> {
    pub(super) index: u32,
    pub(super) variant: A,
}

/// A serializer that passes enum variants through with their index moved up
/// and refuses everything else (only a domain enum is ever given to it).
struct Shifted<S> {
    inner: S,
    base: u32,
}

fn not_an_enum<E: ser::Error>() -> E {
    E::custom("a message domain must be an enum")
}

macro_rules! refuse {
    ($($method:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ret, S::Error> {
            Err(not_an_enum())
        })*
    };
}

impl<S: Serializer> Serializer for Shifted<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = S::SerializeTupleVariant;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = Impossible<S::Ok, S::Error>;
    type SerializeStructVariant = S::SerializeStructVariant;

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner
            .serialize_unit_variant(name, self.base + index, variant)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.inner
            .serialize_newtype_variant(name, self.base + index, variant, value)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.inner
            .serialize_tuple_variant(name, self.base + index, variant, len)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.inner
            .serialize_struct_variant(name, self.base + index, variant, len)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(not_an_enum())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<S::Ok, S::Error> {
        Err(not_an_enum())
    }

    refuse! {
        serialize_bool(bool) -> S::Ok;
        serialize_i8(i8) -> S::Ok;
        serialize_i16(i16) -> S::Ok;
        serialize_i32(i32) -> S::Ok;
        serialize_i64(i64) -> S::Ok;
        serialize_u8(u8) -> S::Ok;
        serialize_u16(u16) -> S::Ok;
        serialize_u32(u32) -> S::Ok;
        serialize_u64(u64) -> S::Ok;
        serialize_f32(f32) -> S::Ok;
        serialize_f64(f64) -> S::Ok;
        serialize_char(char) -> S::Ok;
        serialize_str(&str) -> S::Ok;
        serialize_bytes(&[u8]) -> S::Ok;
        serialize_none() -> S::Ok;
        serialize_unit() -> S::Ok;
        serialize_unit_struct(&'static str) -> S::Ok;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
    }
}

impl<'de, A: VariantAccess<'de>> EnumAccess<'de> for DomainVariant<A> {
    type Error = A::Error;
    type Variant = A;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, A), A::Error> {
        let index: de::value::U32Deserializer<A::Error> = self.index.into_deserializer();
        Ok((seed.deserialize(index)?, self.variant))
    }
}

impl<'de, A: VariantAccess<'de>> de::Deserializer<'de> for DomainVariant<A> {
    type Error = A::Error;

    fn deserialize_enum<T: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: T,
    ) -> Result<T::Value, A::Error> {
        visitor.visit_enum(self)
    }

    fn deserialize_any<T: Visitor<'de>>(self, visitor: T) -> Result<T::Value, A::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// Serde for a message enum made of domain enums: each variant's tags start
/// at its domain's base. Adding a domain is one line here.
macro_rules! by_domain {
    ($msg:ident, $what:literal { $($variant:ident($domain:ty) = $base:expr,)* }) => {
        $(impl From<$domain> for $msg {
            fn from(m: $domain) -> Self {
                $msg::$variant(m)
            }
        })*

        /// The message itself, without its domain: logs and traces read as
        /// they did when the enum was flat.
        impl std::fmt::Debug for $msg {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    $($msg::$variant(m) => std::fmt::Debug::fmt(m, f),)*
                }
            }
        }

        impl serde::Serialize for $msg {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $($msg::$variant(m) => $crate::protocol::tags::serialize_shifted(m, $base, s),)*
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $msg {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Tags;
                impl<'de> serde::de::Visitor<'de> for Tags {
                    type Value = $msg;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($what)
                    }

                    fn visit_enum<A: serde::de::EnumAccess<'de>>(
                        self,
                        a: A,
                    ) -> Result<$msg, A::Error> {
                        let (tag, variant) = a.variant::<u32>()?;
                        $(if $crate::protocol::domain::range($base).contains(&tag) {
                            let v = $crate::protocol::tags::DomainVariant {
                                index: tag - $base,
                                variant,
                            };
                            return <$domain>::deserialize(v).map($msg::$variant);
                        })*
                        Err(serde::de::Error::custom(format_args!("unknown message tag {tag}")))
                    }
                }
                d.deserialize_enum(stringify!($msg), &[], Tags)
            }
        }
    };
}
pub(super) use by_domain;
