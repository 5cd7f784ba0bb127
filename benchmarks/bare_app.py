"""The floor for start-up: a bare Textual app with an empty table and a footer."""

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Static


class Bare(App):
    def compose(self) -> ComposeResult:
        yield Static("BARE-READY")
        yield DataTable()
        yield Footer()


if __name__ == "__main__":
    Bare().run()
