//! Java object serialization: just enough of the object-stream format to skip a JCEKS
//! secret-key entry and collect the string and `byte[]` fields of the objects in it.

use super::*;

// string and byte[] fields of the objects in it.

/// String and `byte[]` field values of a deserialized object graph, by field name.
#[derive(Debug, Default)]
pub(super) struct JavaObject {
    strings: Vec<(String, String)>,
    bytes: Vec<(String, Vec<u8>)>,
}

impl JavaObject {
    pub(super) fn string(&self, field: &str) -> Option<&str> {
        self.strings
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
    }
    pub(super) fn bytes(&self, field: &str) -> Option<&[u8]> {
        self.bytes
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_slice())
    }
}

pub(super) struct ClassDesc {
    name: String,
    flags: u8,
    fields: Vec<(u8, String)>,
    superclass: Option<usize>,
}

pub(super) enum Handle {
    Class(usize),
    Str,
    Other,
}

pub(super) enum Value {
    Null,
    Str,
    Class(usize),
    End,
    Other,
}

pub(super) struct JavaReader<'a> {
    pub(super) r: Reader<'a>,
    classes: Vec<ClassDesc>,
    handles: Vec<Handle>,
    out: JavaObject,
    steps: usize,
}

impl<'a> JavaReader<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        JavaReader {
            r: Reader { data, pos: 0 },
            classes: Vec::new(),
            handles: Vec::new(),
            out: JavaObject::default(),
            steps: 0,
        }
    }

    pub(super) fn read_stream(&mut self) -> Result<JavaObject, ParseError> {
        if self.r.u16()? != 0xACED || self.r.u16()? != 5 {
            return Err(err("jceks: bad Java serialization header"));
        }
        self.content("", 0)?;
        Ok(std::mem::take(&mut self.out))
    }

    pub(super) fn new_handle(&mut self, h: Handle) -> usize {
        self.handles.push(h);
        self.handles.len() - 1
    }

    pub(super) fn content(&mut self, field: &str, depth: u8) -> Result<Value, ParseError> {
        self.steps += 1;
        if depth > 32 || self.steps > 100_000 {
            return Err(err("jceks: serialized object too deep"));
        }
        let tc = self.r.u8()?;
        Ok(match tc {
            0x70 => Value::Null,
            0x71 => {
                let h = self.r.u32()?.wrapping_sub(0x7E_0000) as usize;
                match self.handles.get(h) {
                    Some(Handle::Class(c)) => Value::Class(*c),
                    Some(Handle::Str) => Value::Str,
                    Some(Handle::Other) => Value::Other,
                    None => return Err(err("jceks: bad object reference")),
                }
            }
            0x74 | 0x7C => {
                let n = if tc == 0x74 {
                    self.r.u16()? as usize
                } else {
                    usize::try_from(self.r.u64()?).map_err(|_| err("jceks: string too long"))?
                };
                let s = String::from_utf8_lossy(self.r.bytes(n)?).into_owned();
                self.new_handle(Handle::Str);
                if !field.is_empty() {
                    self.out.strings.push((field.to_string(), s));
                }
                Value::Str
            }
            0x72 => Value::Class(self.class_desc(depth)?),
            0x73 => {
                let class = self.class_ref(depth)?;
                self.new_handle(Handle::Other);
                let mut chain = Vec::new();
                let mut c = Some(class);
                while let Some(i) = c {
                    if chain.len() > 64 {
                        return Err(err("jceks: class hierarchy too deep"));
                    }
                    chain.push(i);
                    c = self.classes[i].superclass;
                }
                for &i in chain.iter().rev() {
                    let flags = self.classes[i].flags;
                    if flags & 0x04 != 0 {
                        // Externalizable: block data only
                        if flags & 0x08 == 0 {
                            return Err(err("jceks: unsupported externalizable object"));
                        }
                        self.annotations(depth)?;
                        continue;
                    }
                    let fields = self.classes[i].fields.clone();
                    for (ty, name) in fields {
                        self.field_value(ty, &name, depth)?;
                    }
                    if flags & 0x01 != 0 {
                        self.annotations(depth)?;
                    }
                }
                Value::Other
            }
            0x75 => {
                let class = self.class_ref(depth)?;
                self.new_handle(Handle::Other);
                let n = self.r.u32()? as usize;
                let component = self.classes[class]
                    .name
                    .as_bytes()
                    .get(1)
                    .copied()
                    .unwrap_or(b'L');
                match prim_size(component) {
                    Some(size) => {
                        let data = self.r.bytes(
                            n.checked_mul(size)
                                .ok_or_else(|| err("jceks: array too large"))?,
                        )?;
                        if component == b'B' && !field.is_empty() {
                            self.out.bytes.push((field.to_string(), data.to_vec()));
                        }
                    }
                    None => {
                        for _ in 0..n {
                            self.content("", depth + 1)?;
                        }
                    }
                }
                Value::Other
            }
            0x7E => {
                self.class_ref(depth)?;
                self.new_handle(Handle::Other);
                self.content(field, depth + 1)?;
                Value::Other
            }
            0x76 => {
                self.class_ref(depth)?;
                self.new_handle(Handle::Other);
                Value::Other
            }
            0x77 => {
                let n = self.r.u8()? as usize;
                self.r.bytes(n)?;
                Value::Other
            }
            0x7A => {
                let n = self.r.u32()? as usize;
                self.r.bytes(n)?;
                Value::Other
            }
            0x78 => Value::End,
            t => return Err(err(format!("jceks: unsupported serialization tag {t:#x}"))),
        })
    }

    pub(super) fn class_ref(&mut self, depth: u8) -> Result<usize, ParseError> {
        match self.content("", depth + 1)? {
            Value::Class(c) => Ok(c),
            _ => Err(err("jceks: expected a class descriptor")),
        }
    }

    pub(super) fn annotations(&mut self, depth: u8) -> Result<(), ParseError> {
        loop {
            if let Value::End = self.content("", depth + 1)? {
                return Ok(());
            }
        }
    }

    pub(super) fn class_desc(&mut self, depth: u8) -> Result<usize, ParseError> {
        let name = self.r.utf()?;
        self.r.u64()?; // serialVersionUID
        let idx = self.classes.len();
        self.classes.push(ClassDesc {
            name,
            flags: 0,
            fields: Vec::new(),
            superclass: None,
        });
        self.new_handle(Handle::Class(idx));
        let flags = self.r.u8()?;
        let n = self.r.u16()? as usize;
        let mut fields = Vec::with_capacity(n.min(256));
        for _ in 0..n {
            let ty = self.r.u8()?;
            let name = self.r.utf()?;
            if ty == b'L' || ty == b'[' {
                self.content("", depth + 1)?; // the field's class name
            } else if prim_size(ty).is_none() {
                return Err(err("jceks: bad field type"));
            }
            fields.push((ty, name));
        }
        self.annotations(depth)?;
        let superclass = match self.content("", depth + 1)? {
            Value::Class(c) if c != idx => Some(c),
            Value::Null => None,
            _ => return Err(err("jceks: bad superclass descriptor")),
        };
        let c = &mut self.classes[idx];
        c.flags = flags;
        c.fields = fields;
        c.superclass = superclass;
        Ok(idx)
    }

    pub(super) fn field_value(&mut self, ty: u8, name: &str, depth: u8) -> Result<(), ParseError> {
        match prim_size(ty) {
            Some(n) => {
                self.r.bytes(n)?;
            }
            None => {
                self.content(name, depth + 1)?;
            }
        }
        Ok(())
    }
}

/// Size of a primitive field type code; None for objects and arrays.
pub(super) fn prim_size(ty: u8) -> Option<usize> {
    Some(match ty {
        b'B' | b'Z' => 1,
        b'C' | b'S' => 2,
        b'I' | b'F' => 4,
        b'J' | b'D' => 8,
        _ => return None,
    })
}
