//! A recursive-descent parser for the JavaScript subset `validation.json`'s calls use:
//! numbers (`NaN`, `Infinity`, `-0`, `2**31`, `-1 >>> 0`, hex), bigints (`1n`), strings
//! with escapes (`'\0'`, `\x..`, `\u....`) and `.repeat(n)`, `+` concatenation,
//! `true`/`false`/`null`/`undefined`, arrays, object literals (bare, quoted and numeric
//! keys), arrow and `function` expressions (as [`Value::Function`]), `new X(...)` instances
//! (`new AbortController().signal` is an `AbortSignal`), and call chains
//! (`new net.Socket().setTimeout(1)`).

use sansnet::validate::to_uint32;
use sansnet::Value;

/// The parser: a cursor over the text.
pub struct Parser {
    chars: Vec<char>,
    pos: usize,
}

/// A parse result; the error says where and why.
pub type PResult<T> = Result<T, String>;

/// A parsed call chain: `new`?, then each `name(args)` link.
pub type Chain = (bool, Vec<(String, Vec<Value>)>);

impl Parser {
    pub fn new(text: &str) -> Parser {
        Parser {
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(c) if c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn rest_starts_with(&self, s: &str) -> bool {
        let s: Vec<char> = s.chars().collect();
        self.chars.get(self.pos..self.pos + s.len()) == Some(&s[..])
    }

    fn eat(&mut self, s: &str) -> bool {
        self.skip_ws();
        if self.rest_starts_with(s) {
            self.pos += s.chars().count();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, s: &str) -> PResult<()> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(format!("expected {s:?} at {}", self.pos))
        }
    }

    pub fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos >= self.chars.len()
    }

    fn ident(&mut self) -> Option<String> {
        self.skip_ws();
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_alphanumeric() || c == '_' || c == '$') {
            self.pos += 1;
        }
        (self.pos > start && !self.chars[start].is_ascii_digit())
            .then(|| self.chars[start..self.pos].iter().collect())
            .or_else(|| {
                self.pos = start;
                None
            })
    }

    /// Skips a balanced `{…}` / `(…)` group (function bodies and parameter lists).
    fn skip_group(&mut self, open: char, close: char) -> PResult<()> {
        self.expect(&open.to_string())?;
        let mut depth = 1;
        while depth > 0 {
            match self.peek() {
                None => return Err("unbalanced group".into()),
                Some('\'') | Some('"') => {
                    self.string()?;
                    continue;
                }
                Some(c) if c == open => depth += 1,
                Some(c) if c == close => depth -= 1,
                _ => {}
            }
            self.pos += 1;
        }
        Ok(())
    }

    fn args(&mut self) -> PResult<Vec<Value>> {
        self.expect("(")?;
        let mut out = Vec::new();
        while !self.eat(")") {
            out.push(self.expr()?);
            if !self.eat(",") {
                self.expect(")")?;
                break;
            }
        }
        Ok(out)
    }

    pub fn expr(&mut self) -> PResult<Value> {
        let mut left = self.additive()?;
        loop {
            if self.eat(">>>") {
                let r = self.additive()?;
                left = num(f64::from(
                    to_uint32(number(&left)?) >> (to_uint32(number(&r)?) & 31),
                ));
            } else {
                return Ok(left);
            }
        }
    }

    fn additive(&mut self) -> PResult<Value> {
        let mut left = self.multiplicative()?;
        loop {
            self.skip_ws();
            if self.rest_starts_with("+") && !self.rest_starts_with("++") {
                self.pos += 1;
                let r = self.multiplicative()?;
                left = match (&left, &r) {
                    (Value::String(a), Value::String(b)) => Value::String(format!("{a}{b}")),
                    (a, b) => num(number(a)? + number(b)?),
                };
            } else if self.rest_starts_with("-") && !self.rest_starts_with("--") {
                self.pos += 1;
                let r = self.multiplicative()?;
                left = num(number(&left)? - number(&r)?);
            } else {
                return Ok(left);
            }
        }
    }

    fn multiplicative(&mut self) -> PResult<Value> {
        let mut left = self.exponent()?;
        loop {
            self.skip_ws();
            if self.rest_starts_with("*") && !self.rest_starts_with("**") {
                self.pos += 1;
                let r = self.exponent()?;
                left = num(number(&left)? * number(&r)?);
            } else if self.eat("/") {
                let r = self.exponent()?;
                left = num(number(&left)? / number(&r)?);
            } else {
                return Ok(left);
            }
        }
    }

    fn exponent(&mut self) -> PResult<Value> {
        let base = self.postfix()?;
        if self.eat("**") {
            let exp = self.exponent()?;
            return Ok(num(number(&base)?.powf(number(&exp)?)));
        }
        Ok(base)
    }

    /// A unary expression followed by `.repeat(n)` calls on strings.
    fn postfix(&mut self) -> PResult<Value> {
        let mut v = self.unary()?;
        while self.eat(".repeat") {
            let args = self.args()?;
            let n = number(args.first().ok_or("repeat needs a count")?)?;
            match &v {
                Value::String(s) => v = Value::String(s.repeat(n as usize)),
                other => return Err(format!("repeat on {other:?}")),
            }
        }
        Ok(v)
    }

    fn unary(&mut self) -> PResult<Value> {
        if self.eat("-") {
            return match &self.unary()? {
                Value::BigInt(s) => Ok(Value::BigInt(format!("-{s}"))),
                v => Ok(num(-number(v)?)),
            };
        }
        if self.eat("+") {
            let v = self.unary()?;
            return Ok(num(number(&v)?));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<Value> {
        self.skip_ws();
        match self.peek() {
            Some('[') => {
                self.pos += 1;
                let mut items = Vec::new();
                while !self.eat("]") {
                    items.push(self.expr()?);
                    if !self.eat(",") {
                        self.expect("]")?;
                        break;
                    }
                }
                Ok(Value::Array(items))
            }
            Some('{') => {
                self.pos += 1;
                let mut props = Vec::new();
                while !self.eat("}") {
                    self.skip_ws();
                    let key = match self.peek() {
                        Some('\'') | Some('"') => self.string()?,
                        Some(c) if c.is_ascii_digit() => {
                            sansnet::validate::number_to_string(number(&self.number()?)?)
                        }
                        _ => self.ident().ok_or("expected a key")?,
                    };
                    self.expect(":")?;
                    props.push((key, self.expr()?));
                    if !self.eat(",") {
                        self.expect("}")?;
                        break;
                    }
                }
                Ok(Value::Object(props))
            }
            Some('\'') | Some('"') => Ok(Value::String(self.string()?)),
            Some('(') => {
                let save = self.pos;
                self.pos += 1;
                if self.eat(")") && self.eat("=>") {
                    self.skip_ws();
                    if self.peek() == Some('{') {
                        self.skip_group('{', '}')?;
                    } else {
                        self.expr()?;
                    }
                    return Ok(Value::Function(None));
                }
                self.pos = save + 1;
                let v = self.expr()?;
                self.expect(")")?;
                Ok(v)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(),
            _ => {
                let id = self
                    .ident()
                    .ok_or_else(|| format!("unexpected at {}", self.pos))?;
                Ok(match id.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    "undefined" => Value::Undefined,
                    "NaN" => num(f64::NAN),
                    "Infinity" => num(f64::INFINITY),
                    "function" => {
                        self.ident();
                        self.skip_group('(', ')')?;
                        self.skip_group('{', '}')?;
                        Value::Function(None)
                    }
                    "new" => {
                        let class = self.ident().ok_or("expected a class")?;
                        let class = if self.eat(".") {
                            self.ident().ok_or("expected a class")?
                        } else {
                            class
                        };
                        self.skip_ws();
                        if self.rest_starts_with("(") {
                            self.skip_group('(', ')')?;
                        }
                        if class == "AbortController" && self.eat(".signal") {
                            Value::Instance("AbortSignal".into())
                        } else {
                            Value::Instance(class)
                        }
                    }
                    other => return Err(format!("unknown identifier {other}")),
                })
            }
        }
    }

    fn number(&mut self) -> PResult<Value> {
        let start = self.pos;
        if self.rest_starts_with("0x") || self.rest_starts_with("0X") {
            self.pos += 2;
            while matches!(self.peek(), Some(c) if c.is_ascii_hexdigit()) {
                self.pos += 1;
            }
            let text: String = self.chars[start + 2..self.pos].iter().collect();
            return u64::from_str_radix(&text, 16)
                .map(|n| num(n as f64))
                .map_err(|e| e.to_string());
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_digit() || c == '.' || c == '_') {
            self.pos += 1;
        }
        if matches!(self.peek(), Some('e') | Some('E')) {
            self.pos += 1;
            if matches!(self.peek(), Some('+') | Some('-')) {
                self.pos += 1;
            }
            while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let text: String = self.chars[start..self.pos]
            .iter()
            .filter(|c| **c != '_')
            .collect();
        if self.peek() == Some('n') {
            self.pos += 1;
            return Ok(Value::BigInt(text));
        }
        text.parse::<f64>()
            .map(num)
            .map_err(|e| format!("{text}: {e}"))
    }

    fn string(&mut self) -> PResult<String> {
        self.skip_ws();
        let quote = self.peek().ok_or("expected a string")?;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or("unterminated string")?;
            self.pos += 1;
            if c == quote {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let e = self.peek().ok_or("unterminated escape")?;
            self.pos += 1;
            let hex = |p: &mut Parser, n: usize| -> PResult<char> {
                let text: String = p
                    .chars
                    .get(p.pos..p.pos + n)
                    .ok_or("short escape")?
                    .iter()
                    .collect();
                p.pos += n;
                u32::from_str_radix(&text, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad escape {text}"))
            };
            out.push(match e {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'v' => '\u{b}',
                '0' => '\0',
                'x' => hex(self, 2)?,
                'u' => hex(self, 4)?,
                other => other,
            });
        }
    }

    /// A call chain: `[new] a.b(args).c(args)…` as (`new`, [(name path, args)]).
    pub fn chain(&mut self) -> PResult<Chain> {
        let is_new = self.eat("new ");
        let mut links = Vec::new();
        let mut name = self.ident().ok_or("expected a name")?;
        loop {
            if self.eat(".") {
                name.push('.');
                name.push_str(&self.ident().ok_or("expected a member")?);
                continue;
            }
            self.skip_ws();
            if !self.rest_starts_with("(") {
                return Err(format!("unexpected end of chain at {}", self.pos));
            }
            links.push((std::mem::take(&mut name), self.args()?));
            if !self.eat(".") {
                break;
            }
            name = self.ident().ok_or("expected a member")?;
        }
        Ok((is_new, links))
    }
}

pub fn num(n: f64) -> Value {
    Value::Number(n)
}

fn number(v: &Value) -> PResult<f64> {
    match v {
        Value::Number(n) => Ok(*n),
        other => Err(format!("not a number: {other:?}")),
    }
}
