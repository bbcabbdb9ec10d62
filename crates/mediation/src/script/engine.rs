//! One QuickJS runtime per thread, reused by every execution on that thread, and the [`Scope`] an
//! execution works in: a new context (fresh globals and built-ins) with the limits armed, torn down
//! when the execution ends. Exceptions become [`ScriptError`]s with their message and location.

use std::cell::{Cell, RefCell};
use std::ffi::CString;
use std::rc::Rc;
use std::time::Instant;

use rquickjs::context::EvalOptions;
use rquickjs::context::intrinsic::{
    Date, Eval, Json, MapSet, Promise, Proxy, RegExp, RegExpCompiler, WeakRef,
};
use rquickjs::function::Rest;
use rquickjs::{Coerced, Context, Ctx, Runtime, Value, qjs};

use super::{Limits, MAX_SCRIPT_STACK, Script, ScriptError};

/// The thread's runtime, the deadline its interrupt handler checks, and whether the handler
/// stopped the current execution.
struct ThreadEngine {
    runtime: Runtime,
    deadline: Rc<Cell<Option<Instant>>>,
    interrupted: Rc<Cell<bool>>,
}

thread_local! {
    static ENGINE: RefCell<Option<ThreadEngine>> = const { RefCell::new(None) };
}

/// Runs `f` in a fresh global scope on this thread's runtime, within `limits`. The scope and
/// everything the script created are gone when this returns.
pub fn execute<R>(
    limits: Limits,
    f: impl for<'js> FnOnce(&Scope<'js>) -> Result<R, ScriptError>,
) -> Result<R, ScriptError> {
    ENGINE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            let engine = match slot.as_mut() {
                Some(engine) => engine,
                None => slot.insert(ThreadEngine::new()?),
            };
            engine.run(limits, f)
        }
        // Called from inside an execution on this thread: a runtime of its own.
        Err(_) => ThreadEngine::new()?.run(limits, f),
    })
}

impl ThreadEngine {
    fn new() -> Result<ThreadEngine, ScriptError> {
        let runtime = Runtime::new().map_err(|e| ScriptError::Engine(e.to_string()))?;
        let deadline: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
        let interrupted = Rc::new(Cell::new(false));
        let (watched, flag) = (deadline.clone(), interrupted.clone());
        // Called by QuickJS every few thousand operations; `true` raises an uncatchable error.
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let stop = watched.get().is_some_and(|at| Instant::now() >= at);
            if stop {
                flag.set(true);
            }
            stop
        })));
        runtime.set_max_stack_size(MAX_SCRIPT_STACK);
        Ok(ThreadEngine {
            runtime,
            deadline,
            interrupted,
        })
    }

    fn run<R>(
        &self,
        limits: Limits,
        f: impl for<'js> FnOnce(&Scope<'js>) -> Result<R, ScriptError>,
    ) -> Result<R, ScriptError> {
        self.runtime.set_memory_limit(limits.max_memory);
        self.interrupted.set(false);
        self.deadline.set(Some(Instant::now() + limits.max_time));
        let result = self.fresh_context().and_then(|context| {
            context.with(|ctx| {
                let scope = Scope { ctx: ctx.clone() };
                let result = f(&scope);
                // Promise jobs the script left run now, under the same deadline; a job that is
                // left queued would keep the context alive.
                while ctx.execute_pending_job() {}
                result
            })
        });
        self.deadline.set(None);
        // Stopped by the interrupt handler: the script (or a promise job it left) was cut short,
        // whatever the Rust side made of the error.
        let result = match result {
            _ if self.interrupted.get() => Err(ScriptError::Timeout {
                limit: limits.max_time,
            }),
            Err(ScriptError::OutOfMemory { .. }) => Err(ScriptError::OutOfMemory {
                limit: limits.max_memory,
            }),
            Err(ScriptError::Thrown { message, .. }) if message == OUT_OF_MEMORY => {
                Err(ScriptError::OutOfMemory {
                    limit: limits.max_memory,
                })
            }
            other => other,
        };
        // Cycles are collected by QuickJS as it allocates; after a failure (possibly at the memory
        // limit) or a large execution, collect now so the next execution starts with its budget.
        if result.is_err()
            || self.runtime.memory_usage().malloc_size as usize > limits.max_memory / 4
        {
            self.runtime.run_gc();
        }
        result
    }

    /// A new context with ECMAScript's built-ins except typed arrays (which cost a third of the
    /// context's set-up and which MI scripts do not use); `Promise` is kept because async
    /// functions need it.
    fn fresh_context(&self) -> Result<Context, ScriptError> {
        Context::builder()
            .with::<(
                Date,
                Eval,
                RegExpCompiler,
                RegExp,
                Json,
                MapSet,
                Promise,
                Proxy,
                WeakRef,
            )>()
            .build(&self.runtime)
            .map_err(|e| match e {
                rquickjs::Error::Allocation => ScriptError::OutOfMemory { limit: 0 },
                other => ScriptError::Engine(other.to_string()),
            })
    }
}

/// QuickJS's message when an allocation is refused.
const OUT_OF_MEMORY: &str = "InternalError: out of memory";

/// One execution's global scope.
pub struct Scope<'js> {
    ctx: Ctx<'js>,
}

impl<'js> Scope<'js> {
    /// The QuickJS context, for what the methods below do not offer.
    pub fn ctx(&self) -> &Ctx<'js> {
        &self.ctx
    }

    /// Runs a script's top-level code (sloppy mode, as MI's engines run it); its completion value.
    pub fn eval(&self, script: &Script) -> Result<Value<'js>, ScriptError> {
        let mut options = EvalOptions::default();
        options.global = true;
        options.strict = false;
        options.filename = Some(script.name().to_string());
        self.ctx
            .eval_with_options::<Value, _>(script.padded(), options)
            .map_err(|e| self.caught(e))
    }

    /// Defines a global holding `value` as `JSON.parse` would give it.
    pub fn set_global_json(
        &self,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<(), ScriptError> {
        let value = self.to_js(value)?;
        self.ctx
            .globals()
            .set(name, value)
            .map_err(|e| self.caught(e))
    }

    /// Calls the global function `function` with `args`; its result as JSON (`None` for
    /// `undefined` or a function).
    pub fn call_json(
        &self,
        function: &str,
        args: &[serde_json::Value],
    ) -> Result<Option<serde_json::Value>, ScriptError> {
        let target: Value = self
            .ctx
            .globals()
            .get(function)
            .map_err(|e| self.caught(e))?;
        let Some(target) = target.as_function() else {
            return Err(ScriptError::NotAFunction {
                name: function.to_string(),
            });
        };
        let args = args
            .iter()
            .map(|a| self.to_js(a))
            .collect::<Result<Vec<_>, _>>()?;
        let result: Value = target.call((Rest(args),)).map_err(|e| self.caught(e))?;
        self.from_js(result)
    }

    /// A JSON value as a JavaScript value (`JSON.parse` of its text).
    pub fn to_js(&self, value: &serde_json::Value) -> Result<Value<'js>, ScriptError> {
        let text =
            serde_json::to_string(value).map_err(|e| ScriptError::Conversion(e.to_string()))?;
        self.ctx.json_parse(text).map_err(|e| self.caught(e))
    }

    /// A JavaScript value as JSON (`JSON.stringify`, then parsed); `None` for `undefined`.
    pub fn from_js(&self, value: Value<'js>) -> Result<Option<serde_json::Value>, ScriptError> {
        match self.stringify(value)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| ScriptError::Conversion(format!("the script's value as JSON: {e}"))),
        }
    }

    /// `JSON.stringify(value)`: the exact text (`None` for `undefined` or a function).
    pub fn stringify(&self, value: Value<'js>) -> Result<Option<String>, ScriptError> {
        let text = self.ctx.json_stringify(value).map_err(|e| self.caught(e))?;
        text.map(|t| t.to_string())
            .transpose()
            .map_err(|e| self.caught(e))
    }

    /// Checks a script's syntax without running any of it.
    pub(crate) fn check_syntax(&self, script: &Script) -> Result<(), ScriptError> {
        let nul = |what: &str| ScriptError::Syntax {
            name: script.name().to_string(),
            line: 0,
            column: 0,
            message: format!("{what} contains a NUL character"),
        };
        let source = CString::new(script.padded()).map_err(|_| nul("the script"))?;
        let name = CString::new(script.name()).map_err(|_| nul("the script's name"))?;
        let flags = (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32;
        // SAFETY: `self.ctx` is the live context of this scope. JS_Eval reads `input_len` bytes of
        // `source` (NUL-terminated after them, as it requires) and the NUL-terminated `name`, both
        // alive for the call. With COMPILE_ONLY it parses and compiles without running anything.
        let raw = unsafe {
            qjs::JS_Eval(
                self.ctx.as_raw().as_ptr(),
                source.as_ptr(),
                script.padded().len() as _,
                name.as_ptr(),
                flags,
            )
        };
        // SAFETY: JS_Eval returns a value the caller owns (compiled code, or the exception marker);
        // `Value` takes that reference and frees it when dropped.
        let compiled = unsafe { Value::from_raw(self.ctx.clone(), raw) };
        if !compiled.is_exception() {
            return Ok(());
        }
        match describe(self.ctx.catch()) {
            ScriptError::Thrown { message, location } => {
                let (line, column) = location
                    .as_deref()
                    .and_then(line_and_column)
                    .unwrap_or((0, 0));
                Err(ScriptError::Syntax {
                    name: script.name().to_string(),
                    line,
                    column,
                    message,
                })
            }
            other => Err(other),
        }
    }

    /// An error from QuickJS as a [`ScriptError`]: the pending exception, described.
    pub fn caught(&self, error: rquickjs::Error) -> ScriptError {
        match error {
            rquickjs::Error::Exception => describe(self.ctx.catch()),
            rquickjs::Error::Allocation => ScriptError::OutOfMemory { limit: 0 },
            other => ScriptError::Conversion(other.to_string()),
        }
    }
}

/// What was thrown: an error's `Name: message` and the location of its innermost script frame,
/// or the string form of any other value. A `null` exception is what QuickJS leaves when it
/// could not even allocate the error object: the memory limit.
fn describe(value: Value) -> ScriptError {
    if value.is_null() {
        return ScriptError::OutOfMemory { limit: 0 };
    }
    if let Some(object) = value.as_object() {
        let text = |key: &str| object.get::<_, Option<String>>(key).ok().flatten();
        let (name, message, stack) = (text("name"), text("message"), text("stack"));
        if message.is_some() || stack.is_some() {
            let message = match (name, message) {
                (Some(name), Some(message)) if !message.is_empty() => format!("{name}: {message}"),
                (Some(name), _) => name,
                (None, Some(message)) => message,
                (None, None) => "Error".to_string(),
            };
            return ScriptError::Thrown {
                message,
                location: stack.as_deref().and_then(first_frame),
            };
        }
    }
    let message = match value.get::<Coerced<String>>() {
        Ok(Coerced(text)) => text,
        Err(_) => value.type_name().to_string(),
    };
    ScriptError::Thrown {
        message,
        location: None,
    }
}

/// `name:line:column` of the first script frame of a QuickJS stack (`    at f (api/A.xml:3:5)`,
/// `    at api/A.xml:2:10` for a syntax error); native frames are skipped.
fn first_frame(stack: &str) -> Option<String> {
    stack.lines().find_map(|line| {
        let frame = line.trim().strip_prefix("at ")?;
        let place = match (frame.rfind('('), frame.strip_suffix(')')) {
            (Some(open), Some(inner)) => &inner[open + 1..],
            _ => frame,
        };
        (place != "native" && line_and_column(place).is_some()).then(|| place.to_string())
    })
}

/// The line and column at the end of `name:line:column`.
fn line_and_column(place: &str) -> Option<(u32, u32)> {
    let mut parts = place.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((line, column))
}
