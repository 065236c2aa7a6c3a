//! The ISO-BMFF / HEIF boxes an AVIF still image is made of (ISO/IEC 14496-12,
//! 23008-12): `meta` with its item tables, the item properties, and the first sample
//! of an image sequence track. Every read is bounds-checked; counts declared in the
//! file never size an allocation beyond what the bytes can actually hold.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::error::{Error, Result};

pub(crate) type FourCc = [u8; 4];

fn corrupt(what: &str) -> Error {
    Error::corrupt_image(format!("AVIF {what} is truncated or malformed"))
}

/// A cursor over one box payload.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, pos: 0, what }
    }
    fn err(&self) -> Error {
        corrupt(self.what)
    }
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.err())?;
        let out = self.data.get(self.pos..end).ok_or_else(|| self.err())?;
        self.pos = end;
        Ok(out)
    }
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.data[self.pos..];
        self.pos = self.data.len();
        out
    }
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    pub fn u32(&mut self) -> Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn u64(&mut self) -> Result<u64> {
        let hi = self.u32()? as u64;
        Ok(hi << 32 | self.u32()? as u64)
    }
    /// An unsigned integer of 0, 4 or 8 bytes (the `iloc` field sizes).
    pub fn sized(&mut self, size: u8) -> Result<u64> {
        match size {
            0 => Ok(0),
            4 => Ok(self.u32()? as u64),
            8 => self.u64(),
            _ => Err(self.err()),
        }
    }
    /// `u16` when `wide` is false, `u32` otherwise (item ids across box versions).
    pub fn id(&mut self, wide: bool) -> Result<u32> {
        if wide {
            self.u32()
        } else {
            Ok(self.u16()? as u32)
        }
    }
    pub fn fourcc(&mut self) -> Result<FourCc> {
        let b = self.bytes(4)?;
        Ok([b[0], b[1], b[2], b[3]])
    }
    /// Version and flags of a FullBox.
    pub fn full_box(&mut self) -> Result<(u8, u32)> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00FF_FFFF))
    }
    /// A NUL-terminated string (the terminator is consumed, not returned). A
    /// missing terminator ends the string at the end of the box.
    pub fn c_string(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        let len = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        self.pos += (len + 1).min(rest.len());
        &rest[..len]
    }
}

/// One box: its type and payload (header excluded).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bx<'a> {
    pub kind: FourCc,
    pub body: &'a [u8],
}

/// The boxes in `data`, in order. A box that runs past the end is an error.
pub(crate) fn children<'a>(data: &'a [u8], what: &'static str) -> Result<Vec<Bx<'a>>> {
    let mut out = Vec::new();
    let mut r = Reader::new(data, what);
    while r.remaining() > 0 {
        // Trailing padding shorter than a box header is tolerated (some muxers).
        if r.remaining() < 8 {
            break;
        }
        out.push(next_box(&mut r)?);
    }
    Ok(out)
}

/// The top-level boxes of a file. A box that runs past the end of the file ends the
/// walk (a truncated `mdat` is reported later, when an item's data is missing).
pub(crate) fn top_level(file: &[u8]) -> Vec<Bx<'_>> {
    let mut out = Vec::new();
    let mut r = Reader::new(file, "file");
    while r.remaining() >= 8 {
        match next_box(&mut r) {
            Ok(b) => out.push(b),
            Err(_) => break,
        }
    }
    out
}

fn next_box<'a>(r: &mut Reader<'a>) -> Result<Bx<'a>> {
    let start = r.pos;
    let size32 = r.u32()?;
    let kind = r.fourcc()?;
    let size = match size32 {
        0 => (r.data.len() - start) as u64,
        1 => r.u64()?,
        n => n as u64,
    };
    let header = (r.pos - start) as u64;
    if kind == *b"uuid" {
        r.bytes(16)?;
    }
    let header_now = (r.pos - start) as u64;
    if size < header_now.max(header) {
        return Err(r.err());
    }
    let body_len = usize::try_from(size - header_now).map_err(|_| r.err())?;
    let body = r.bytes(body_len)?;
    Ok(Bx { kind, body })
}

pub(crate) fn find<'a>(boxes: &[Bx<'a>], kind: &FourCc) -> Option<&'a [u8]> {
    boxes.iter().find(|b| &b.kind == kind).map(|b| b.body)
}

// ---------------------------------------------------------------------------------
// meta

/// Where an item's bytes are (`iloc`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Location {
    /// 0: file offsets, 1: offsets into `idat`, 2: item offsets (unsupported).
    pub construction_method: u8,
    pub data_reference_index: u16,
    pub base_offset: u64,
    /// (offset, length); length 0 means "to the end".
    pub extents: Vec<(u64, u64)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub id: u32,
    pub kind: FourCc,
    pub protected: bool,
    pub location: Option<Location>,
    /// (1-based property index, essential) in `ipma` order.
    pub properties: Vec<(u16, bool)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub kind: FourCc,
    pub from: u32,
    pub to: Vec<u32>,
}

/// The `av1C` fields decode uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Av1Config {
    pub bit_depth: u8,
    pub monochrome: bool,
    pub subsampling_x: bool,
    pub subsampling_y: bool,
}

/// Clean aperture (`clap`) as four signed rationals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CleanAperture {
    pub width: (i64, i64),
    pub height: (i64, i64),
    pub horizontal_offset: (i64, i64),
    pub vertical_offset: (i64, i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Property<'a> {
    Ispe {
        width: u32,
        height: u32,
    },
    Nclx {
        primaries: u16,
        transfer: u16,
        matrix: u16,
        full_range: bool,
    },
    Icc(&'a [u8]),
    /// Anti-clockwise rotation in quarter turns.
    Irot(u8),
    /// 0: top and bottom exchanged, 1: left and right exchanged.
    Imir(u8),
    Clap(CleanAperture),
    /// Auxiliary type URN.
    AuxC(&'a [u8]),
    Av1C(Av1Config),
    /// AV1 operating point to decode.
    A1op(u8),
    /// A property this decoder does not interpret.
    Other(FourCc),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Meta<'a> {
    pub primary: Option<u32>,
    pub items: Items,
    pub properties: Vec<Property<'a>>,
    pub references: Vec<Reference>,
    pub idat: Option<&'a [u8]>,
}

/// Items by id; a map because a hostile file may declare millions of them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Items {
    list: Vec<Item>,
    index: HashMap<u32, usize>,
}

impl Items {
    pub fn get(&self, id: u32) -> Option<&Item> {
        self.index.get(&id).map(|&i| &self.list[i])
    }
    fn entry(&mut self, id: u32) -> &mut Item {
        let list = &mut self.list;
        let i = *self.index.entry(id).or_insert_with(|| {
            list.push(Item {
                id,
                kind: *b"\0\0\0\0",
                protected: false,
                location: None,
                properties: Vec::new(),
            });
            list.len() - 1
        });
        &mut self.list[i]
    }
}

impl<'a> Meta<'a> {
    pub fn item(&self, id: u32) -> Option<&Item> {
        self.items.get(id)
    }

    /// The properties of `item` in association order, with their essential flag.
    /// An index pointing outside `ipco` is corrupt; index 0 means "none".
    pub fn properties_of(&self, item: &Item) -> Result<Vec<(&Property<'a>, bool)>> {
        let mut out = Vec::with_capacity(item.properties.len());
        for &(index, essential) in &item.properties {
            if index == 0 {
                continue;
            }
            let p = self
                .properties
                .get(index as usize - 1)
                .ok_or_else(|| corrupt("ipma property index"))?;
            out.push((p, essential));
        }
        Ok(out)
    }

    /// Items referenced from `from` by a reference of type `kind`, in order.
    pub fn references_from(&self, from: u32, kind: &FourCc) -> Vec<u32> {
        self.references
            .iter()
            .filter(|r| r.from == from && &r.kind == kind)
            .flat_map(|r| r.to.iter().copied())
            .collect()
    }

    /// Items that reference `to` with a reference of type `kind`.
    pub fn referencing(&self, to: u32, kind: &FourCc) -> Vec<u32> {
        self.references
            .iter()
            .filter(|r| &r.kind == kind && r.to.contains(&to))
            .map(|r| r.from)
            .collect()
    }

    /// The bytes of `item`: borrowed when it is one extent, concatenated otherwise
    /// (bounded by the file size, so overlapping extents cannot inflate it).
    pub fn item_data(&self, file: &'a [u8], item: &Item) -> Result<Cow<'a, [u8]>> {
        let loc = item
            .location
            .as_ref()
            .ok_or_else(|| Error::corrupt_image("AVIF item has no location"))?;
        if loc.data_reference_index != 0 {
            return Err(Error::unsupported_format(
                "AVIF item data in an external file is not supported",
            ));
        }
        let source: &'a [u8] = match loc.construction_method {
            0 => file,
            1 => self
                .idat
                .ok_or_else(|| Error::corrupt_image("AVIF item refers to a missing idat"))?,
            _ => {
                return Err(Error::unsupported_format(
                    "AVIF item constructed from other items is not supported",
                ))
            }
        };
        let truncated = || Error::corrupt_image("AVIF item data is truncated");
        let slice = |&(offset, length): &(u64, u64)| -> Result<&'a [u8]> {
            let start = loc.base_offset.checked_add(offset).ok_or_else(truncated)?;
            let start = usize::try_from(start).map_err(|_| truncated())?;
            let end = if length == 0 {
                source.len()
            } else {
                let len = usize::try_from(length).map_err(|_| truncated())?;
                start.checked_add(len).ok_or_else(truncated)?
            };
            source.get(start..end).ok_or_else(truncated)
        };
        match loc.extents.as_slice() {
            [] => Err(Error::corrupt_image("AVIF item has no data")),
            [one] => Ok(Cow::Borrowed(slice(one)?)),
            many => {
                let mut total = 0usize;
                for e in many {
                    total = total.saturating_add(slice(e)?.len());
                }
                if total > file.len() {
                    return Err(Error::corrupt_image(
                        "AVIF item extents add up to more than the file",
                    ));
                }
                let mut out = Vec::with_capacity(total);
                for e in many {
                    out.extend_from_slice(slice(e)?);
                }
                Ok(Cow::Owned(out))
            }
        }
    }
}

/// Parse the `meta` box of a file; `None` when there is none.
pub(crate) fn parse_meta(file: &[u8]) -> Result<Option<Meta<'_>>> {
    let top = top_level(file);
    let Some(body) = find(&top, b"meta") else {
        return Ok(None);
    };
    let mut r = Reader::new(body, "meta box");
    r.full_box()?;
    let boxes = children(r.rest(), "meta box")?;
    let mut meta = Meta::default();
    for b in &boxes {
        match &b.kind {
            b"hdlr" => {
                let mut r = Reader::new(b.body, "hdlr box");
                r.full_box()?;
                r.u32()?; // pre_defined
                let handler = r.fourcc()?;
                if handler != *b"pict" {
                    return Err(Error::unsupported_format(format!(
                        "AVIF meta handler '{}' is not an image",
                        String::from_utf8_lossy(&handler)
                    )));
                }
            }
            b"pitm" => {
                let mut r = Reader::new(b.body, "pitm box");
                let (version, _) = r.full_box()?;
                meta.primary = Some(r.id(version != 0)?);
            }
            b"iloc" => parse_iloc(b.body, &mut meta.items)?,
            b"iinf" => parse_iinf(b.body, &mut meta.items)?,
            b"iref" => parse_iref(b.body, &mut meta.references)?,
            b"iprp" => parse_iprp(b.body, &mut meta)?,
            b"idat" => meta.idat = Some(b.body),
            _ => {}
        }
    }
    Ok(Some(meta))
}

fn parse_iloc(body: &[u8], items: &mut Items) -> Result<()> {
    let mut r = Reader::new(body, "iloc box");
    let (version, _) = r.full_box()?;
    if version > 2 {
        return Err(Error::unsupported_format(format!(
            "AVIF iloc version {version} is not supported"
        )));
    }
    let sizes = r.u8()?;
    let (offset_size, length_size) = (sizes >> 4, sizes & 0x0F);
    let sizes = r.u8()?;
    let base_offset_size = sizes >> 4;
    let index_size = if version >= 1 { sizes & 0x0F } else { 0 };
    let count = r.id(version == 2)?;
    for _ in 0..count {
        let id = r.id(version == 2)?;
        let construction_method = if version >= 1 {
            (r.u16()? & 0x0F) as u8
        } else {
            0
        };
        let data_reference_index = r.u16()?;
        let base_offset = r.sized(base_offset_size)?;
        let extent_count = r.u16()?;
        let mut extents = Vec::new();
        for _ in 0..extent_count {
            if index_size > 0 {
                r.sized(index_size)?;
            }
            let offset = r.sized(offset_size)?;
            let length = r.sized(length_size)?;
            extents.push((offset, length));
        }
        items.entry(id).location = Some(Location {
            construction_method,
            data_reference_index,
            base_offset,
            extents,
        });
    }
    Ok(())
}

fn parse_iinf(body: &[u8], items: &mut Items) -> Result<()> {
    let mut r = Reader::new(body, "iinf box");
    let (version, _) = r.full_box()?;
    r.id(version != 0)?; // entry count: the boxes that follow are authoritative
    for b in children(r.rest(), "iinf box")? {
        if b.kind != *b"infe" {
            continue;
        }
        let mut r = Reader::new(b.body, "infe box");
        let (version, _) = r.full_box()?;
        // Versions 0 and 1 predate item types; they never describe AVIF items.
        if version < 2 {
            continue;
        }
        let id = r.id(version != 2)?;
        let protection_index = r.u16()?;
        let kind = r.fourcc()?;
        let item = items.entry(id);
        item.kind = kind;
        item.protected = protection_index != 0;
    }
    Ok(())
}

fn parse_iref(body: &[u8], refs: &mut Vec<Reference>) -> Result<()> {
    let mut r = Reader::new(body, "iref box");
    let (version, _) = r.full_box()?;
    for b in children(r.rest(), "iref box")? {
        let mut r = Reader::new(b.body, "iref box");
        let from = r.id(version != 0)?;
        let count = r.u16()?;
        let mut to = Vec::new();
        for _ in 0..count {
            to.push(r.id(version != 0)?);
        }
        refs.push(Reference {
            kind: b.kind,
            from,
            to,
        });
    }
    Ok(())
}

fn parse_iprp<'a>(body: &'a [u8], meta: &mut Meta<'a>) -> Result<()> {
    let boxes = children(body, "iprp box")?;
    let ipco = find(&boxes, b"ipco").ok_or_else(|| corrupt("iprp box (no ipco)"))?;
    for b in children(ipco, "ipco box")? {
        meta.properties.push(parse_property(b)?);
    }
    for b in boxes.iter().filter(|b| b.kind == *b"ipma") {
        let mut r = Reader::new(b.body, "ipma box");
        let (version, flags) = r.full_box()?;
        let count = r.u32()?;
        for _ in 0..count {
            let id = r.id(version >= 1)?;
            let n = r.u8()?;
            let mut props = Vec::new();
            for _ in 0..n {
                let (essential, index) = if flags & 1 == 1 {
                    let v = r.u16()?;
                    (v & 0x8000 != 0, v & 0x7FFF)
                } else {
                    let v = r.u8()?;
                    (v & 0x80 != 0, (v & 0x7F) as u16)
                };
                props.push((index, essential));
            }
            meta.items.entry(id).properties.extend(props);
        }
    }
    Ok(())
}

fn parse_property(b: Bx<'_>) -> Result<Property<'_>> {
    let mut r = Reader::new(b.body, "item property");
    Ok(match &b.kind {
        b"ispe" => {
            r.full_box()?;
            Property::Ispe {
                width: r.u32()?,
                height: r.u32()?,
            }
        }
        b"colr" => match &r.fourcc()? {
            b"nclx" => {
                let primaries = r.u16()?;
                let transfer = r.u16()?;
                let matrix = r.u16()?;
                let full_range = r.u8()? & 0x80 != 0;
                Property::Nclx {
                    primaries,
                    transfer,
                    matrix,
                    full_range,
                }
            }
            b"prof" | b"rICC" => Property::Icc(r.rest()),
            _ => Property::Other(b.kind),
        },
        b"irot" => Property::Irot(r.u8()? & 0x03),
        b"imir" => Property::Imir(r.u8()? & 0x01),
        b"clap" => {
            let mut rational =
                || -> Result<(i64, i64)> { Ok((r.u32()? as i32 as i64, r.u32()? as i32 as i64)) };
            let (wn, wd) = rational()?;
            let (hn, hd) = rational()?;
            // Width and height are unsigned; the offsets are signed.
            Property::Clap(CleanAperture {
                width: (wn as u32 as i64, wd as u32 as i64),
                height: (hn as u32 as i64, hd as u32 as i64),
                horizontal_offset: rational()?,
                vertical_offset: rational()?,
            })
        }
        b"auxC" => {
            r.full_box()?;
            Property::AuxC(r.c_string())
        }
        b"av1C" => {
            let marker = r.u8()?;
            if marker & 0x80 == 0 {
                return Err(corrupt("av1C box"));
            }
            r.u8()?; // profile, level
            let flags = r.u8()?;
            let high_bitdepth = flags & 0x40 != 0;
            let twelve_bit = flags & 0x20 != 0;
            Property::Av1C(Av1Config {
                bit_depth: match (high_bitdepth, twelve_bit) {
                    (false, _) => 8,
                    (true, false) => 10,
                    (true, true) => 12,
                },
                monochrome: flags & 0x10 != 0,
                subsampling_x: flags & 0x08 != 0,
                subsampling_y: flags & 0x04 != 0,
            })
        }
        b"a1op" => Property::A1op(r.u8()?),
        _ => Property::Other(b.kind),
    })
}

// ---------------------------------------------------------------------------------
// Image sequences (`moov`): only what the first frame of the first video track needs.

#[derive(Debug, Clone, Default)]
pub(crate) struct Track<'a> {
    pub id: u32,
    pub handler: FourCc,
    pub width: u32,
    pub height: u32,
    /// Sample entry type (`av01` for AV1).
    pub codec: FourCc,
    pub config: Option<Av1Config>,
    pub nclx: Option<Property<'a>>,
    pub icc: Option<&'a [u8]>,
    /// Track this one is an auxiliary (alpha, depth) of (`tref` `auxl`).
    pub auxiliary_for: Option<u32>,
    pub aux_type: Option<&'a [u8]>,
    /// (offset, size) of the first sample in the file.
    pub first_sample: Option<(u64, u64)>,
}

pub(crate) fn parse_tracks(file: &[u8]) -> Result<Vec<Track<'_>>> {
    let top = top_level(file);
    let Some(moov) = find(&top, b"moov") else {
        return Ok(Vec::new());
    };
    let mut tracks = Vec::new();
    for trak in children(moov, "moov box")?
        .into_iter()
        .filter(|b| b.kind == *b"trak")
    {
        tracks.push(parse_track(trak.body)?);
    }
    Ok(tracks)
}

fn parse_track(body: &[u8]) -> Result<Track<'_>> {
    let mut t = Track::default();
    let boxes = children(body, "trak box")?;
    if let Some(tkhd) = find(&boxes, b"tkhd") {
        let mut r = Reader::new(tkhd, "tkhd box");
        let (version, _) = r.full_box()?;
        r.bytes(if version == 1 { 16 } else { 8 })?; // creation, modification
        t.id = r.u32()?;
        r.bytes(4)?; // reserved
        r.bytes(if version == 1 { 8 } else { 4 })?; // duration
        r.bytes(8 + 2 + 2 + 2 + 2 + 36)?; // reserved, layer, group, volume, matrix
        t.width = r.u32()? >> 16;
        t.height = r.u32()? >> 16;
    }
    if let Some(tref) = find(&boxes, b"tref") {
        for b in children(tref, "tref box")? {
            if b.kind == *b"auxl" {
                t.auxiliary_for = Some(Reader::new(b.body, "tref box").u32()?);
            }
        }
    }
    let mdia = children(find(&boxes, b"mdia").unwrap_or(&[]), "mdia box")?;
    if let Some(hdlr) = find(&mdia, b"hdlr") {
        let mut r = Reader::new(hdlr, "hdlr box");
        r.full_box()?;
        r.u32()?;
        t.handler = r.fourcc()?;
    }
    let minf = children(find(&mdia, b"minf").unwrap_or(&[]), "minf box")?;
    let stbl = children(find(&minf, b"stbl").unwrap_or(&[]), "stbl box")?;
    if let Some(stsd) = find(&stbl, b"stsd") {
        let mut r = Reader::new(stsd, "stsd box");
        r.full_box()?;
        r.u32()?;
        if let Some(entry) = children(r.rest(), "stsd box")?.first() {
            t.codec = entry.kind;
            // VisualSampleEntry: 6 reserved + 2 data_reference_index + 16 predefined,
            // width, height, then 50 bytes up to the child boxes.
            let mut r = Reader::new(entry.body, "sample entry");
            r.bytes(24)?;
            let (w, h) = (r.u16()?, r.u16()?);
            if t.width == 0 || t.height == 0 {
                (t.width, t.height) = (w as u32, h as u32);
            }
            r.bytes(50)?;
            for b in children(r.rest(), "sample entry")? {
                match parse_property(b)? {
                    Property::Av1C(c) => t.config = Some(c),
                    p @ Property::Nclx { .. } => t.nclx = Some(p),
                    Property::Icc(icc) => t.icc = Some(icc),
                    _ if b.kind == *b"auxi" => {
                        let mut r = Reader::new(b.body, "auxi box");
                        r.full_box()?;
                        t.aux_type = Some(r.c_string());
                    }
                    _ => {}
                }
            }
        }
    }
    t.first_sample = first_sample(&stbl)?;
    Ok(t)
}

/// The first sample sits at the start of the first chunk.
fn first_sample(stbl: &[Bx<'_>]) -> Result<Option<(u64, u64)>> {
    let size = match find(stbl, b"stsz") {
        Some(stsz) => {
            let mut r = Reader::new(stsz, "stsz box");
            r.full_box()?;
            let fixed = r.u32()?;
            let count = r.u32()?;
            if count == 0 {
                return Ok(None);
            }
            if fixed != 0 {
                fixed as u64
            } else {
                r.u32()? as u64
            }
        }
        None => return Ok(None),
    };
    let offset = if let Some(stco) = find(stbl, b"stco") {
        let mut r = Reader::new(stco, "stco box");
        r.full_box()?;
        if r.u32()? == 0 {
            return Ok(None);
        }
        r.u32()? as u64
    } else if let Some(co64) = find(stbl, b"co64") {
        let mut r = Reader::new(co64, "co64 box");
        r.full_box()?;
        if r.u32()? == 0 {
            return Ok(None);
        }
        r.u64()?
    } else {
        return Ok(None);
    };
    Ok(Some((offset, size)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn boxes_and_sizes() {
        let mut data = bx(b"free", b"abc");
        data.extend(bx(b"skip", b""));
        let boxes = children(&data, "test").unwrap();
        assert_eq!(boxes.len(), 2);
        assert_eq!(boxes[0].body, b"abc");
        // A box claiming more than there is.
        let mut bad = bx(b"free", b"abc");
        bad[3] = 200;
        assert!(children(&bad, "test").is_err());
        assert!(top_level(&bad).is_empty());
        // Size smaller than the header.
        let mut tiny = bx(b"free", b"");
        tiny[3] = 4;
        assert!(children(&tiny, "test").is_err());
        // 64-bit size.
        let mut large = vec![0, 0, 0, 1];
        large.extend_from_slice(b"free");
        large.extend_from_slice(&17u64.to_be_bytes());
        large.push(7);
        assert_eq!(children(&large, "test").unwrap()[0].body, [7]);
    }

    #[test]
    fn extents_are_bounded() {
        let file = b"0123456789";
        let item = |extents: Vec<(u64, u64)>| Item {
            id: 1,
            kind: *b"av01",
            protected: false,
            location: Some(Location {
                extents,
                ..Location::default()
            }),
            properties: vec![],
        };
        let meta = Meta::default();
        assert_eq!(&*meta.item_data(file, &item(vec![(2, 3)])).unwrap(), b"234");
        assert_eq!(&*meta.item_data(file, &item(vec![(8, 0)])).unwrap(), b"89");
        assert_eq!(
            &*meta.item_data(file, &item(vec![(0, 2), (5, 1)])).unwrap(),
            b"015"
        );
        assert!(meta.item_data(file, &item(vec![(8, 3)])).is_err());
        assert!(meta.item_data(file, &item(vec![(u64::MAX, 3)])).is_err());
        // Many overlapping extents cannot add up to more than the file.
        assert!(meta.item_data(file, &item(vec![(0, 10); 3])).is_err());
    }
}
