//! Prints the in-memory sizes of the batch types (for capacity planning).
#![allow(clippy::print_stdout, missing_docs)]
fn main() {
    use std::mem::size_of;
    println!("CustomerState {}", size_of::<crm_tiering::CustomerState>());
    println!("Customer {}", size_of::<crm_tiering::Customer>());
    println!("MonthInput {}", size_of::<crm_tiering::MonthInput>());
    println!("Event {}", size_of::<crm_tiering::Event>());
    println!("Alert {}", size_of::<crm_tiering::Alert>());
    println!("BatchEvent {}", size_of::<crm_tiering::BatchEvent>());
    println!("BatchAlert {}", size_of::<crm_tiering::BatchAlert>());
    println!("TieringError {}", size_of::<crm_tiering::TieringError>());
}
