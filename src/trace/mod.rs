//! Traces: the assembler that builds them from events, the model it builds, and the rules
//! that give each message its direction.

pub mod assembler;
pub mod direction;
pub mod model;

pub use assembler::{arrival_second, Assembler};
pub use direction::DirectionRules;
pub use model::{Direction, Recipient, Status, Trace};
