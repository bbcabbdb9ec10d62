//! `<respond/>`: send the current message to the client with `HTTP_SC` (default 200) and stop
//! (SYN `mediators/builtin/RespondMediator.java`). The engine builds the response.

#[derive(Debug, Clone, Default)]
pub struct Respond;
