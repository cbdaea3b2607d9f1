"""Keyboard-only use in Debian's chromium: Tab, Shift+Tab, Space, Enter and arrows, with a
check after every move that the focused element shows a visible focus indicator."""

from __future__ import annotations

from typing import Any

# What a keyboard user sees at the focused element: an outline or a box shadow that the
# element does not have without focus, in a colour with at least 3:1 contrast against
# the background the element stands on (WCAG 2.1: 2.4.7 and 1.4.11).
FOCUS_CHECK = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'nothing has the focus';
    const describe = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.textContent.trim() ? ' »' + el.textContent.trim().slice(0, 40) + '«' : '');
    const style = () => {
        const s = getComputedStyle(el);
        const width = parseFloat(s.outlineWidth);
        return {outline: s.outlineStyle !== 'none' && width > 0 ? s.outlineColor : null, width: width,
                shadow: s.boxShadow === 'none' ? null : s.boxShadow};
    };
    const focused = style();
    const visible = el.matches(':focus-visible');
    el.blur();
    const plain = style();
    el.focus();
    if (document.activeElement !== el) return describe + ': cannot be focused again';
    const colours = [];
    if (focused.outline && (focused.outline !== plain.outline || focused.width !== plain.width))
        colours.push(focused.outline);
    if (focused.shadow && focused.shadow !== plain.shadow)
        colours.push(...(focused.shadow.match(/rgba?\\([^)]*\\)/g) || []));
    const rgb = c => c.match(/[0-9.]+/g).map(Number);
    const luminance = c => {
        const [r, g, b] = rgb(c).slice(0, 3).map(v => v / 255)
            .map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    let node = el.parentElement, background = 'rgb(255, 255, 255)';
    while (node) {
        const c = getComputedStyle(node).backgroundColor;
        if (rgb(c).length < 4 || rgb(c)[3] > 0) { background = c; break; }
        node = node.parentElement;
    }
    const contrast = c => {
        const [a, b] = [luminance(c), luminance(background)].sort((x, y) => y - x);
        return (a + 0.05) / (b + 0.05);
    };
    const visibleColours = colours.filter(c => rgb(c).length < 4 || rgb(c)[3] > 0);
    if (!visible) return describe + ': does not match :focus-visible';
    if (!visibleColours.length) return describe + ': no outline or shadow that differs from the unfocused state';
    if (!visibleColours.some(c => contrast(c) >= 3))
        return describe + ': focus indicator ' + visibleColours.join(', ') + ' has less than 3:1 against ' + background;
    return null;
}"""


class Keyboard:
    """Tab, Shift+Tab, Space, Enter and arrows only; after every move of the focus the
    focused element must show a visible focus indicator."""

    def __init__(self, tab: Any) -> None:
        self.tab = tab
        self.problems: list[str] = []
        self.stops = 0

    def press(self, key: str) -> None:
        self.tab.keyboard.press(key)
        self.check()

    def check(self) -> None:
        self.stops += 1
        problem = self.tab.evaluate(FOCUS_CHECK)
        if problem:
            self.problems.append(f"{self.tab.url}: {problem}")

    def focused(self, selector: str, text: str | None) -> bool:
        return bool(self.tab.evaluate("([s, t]) => document.activeElement.matches(s) && "
                                      "(t === null || document.activeElement.textContent.trim() === t)",
                                      [selector, text]))

    def to(self, selector: str, text: str | None = None, backwards: bool = False, limit: int = 40) -> None:
        """Tab (or Shift+Tab) to the element that matches the CSS selector (and has this text)."""
        for _ in range(limit):
            self.press("Shift+Tab" if backwards else "Tab")
            if self.focused(selector, text):
                return
        raise AssertionError(f"{selector} {text or ''} not reached by keyboard on {self.tab.url}")

    def skip_to_content(self) -> None:
        """The skip link is the first stop; it moves the focus to the main content."""
        self.press("Tab")
        assert self.tab.evaluate("document.activeElement.textContent") == "Zum Inhalt springen"
        self.tab.keyboard.press("Enter")
        assert self.tab.evaluate("document.activeElement.id") == "inhalt"

    def type(self, selector: str, text: str) -> None:
        self.to(selector)
        self.tab.keyboard.type(text)

    def submit(self, key: str = "Enter") -> None:
        with self.tab.expect_navigation():
            self.tab.keyboard.press(key)

    def tour(self, first: str = ".skip-link") -> None:
        """Every stop of a freshly loaded page, from the top to the end, and out of the page
        again (the next Tab starts at the top). A page that opens with the focus on its error
        summary starts there: its first stop is then the summary's first link."""
        seen = 0
        for _ in range(120):
            self.tab.keyboard.press("Tab")
            if self.tab.evaluate("document.activeElement === document.body"):
                break
            if not seen:
                assert self.focused(first, None), self.tab.url
            self.check()
            seen += 1
        assert seen > 5, self.tab.url
