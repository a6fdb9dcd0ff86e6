"""A run played back as frames: the timeline uncovering itself, the system changing below.

A still timeline shows everything at once; in class the point lands when the crash
happens *while* students watch and the recovery follows. Each frame is one moment of the
run (a step starting, a crash, a restart, a replay); the timeline's layout never moves,
a veil lifts from left to right, and the system graph below shows who is down and what
each account holds at that instant. Frames are rendered by matplotlib alone: HTML with
``to_jshtml`` and GIF with Pillow, so no ffmpeg is needed anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.patches import Rectangle

from durasim.viz import style
from durasim.viz.graph import architecture_graph
from durasim.viz.state import moments
from durasim.viz.story import tell
from durasim.viz.timeline import draw_story, run_title


def animate(run: Any, *, interval: int = 900, max_frames: int = 60) -> FuncAnimation:
    """The run as an animation, one frame per moment worth seeing.

    Args:
        run: a Run, a WorkflowRun or a Trace.
        interval: milliseconds between frames when played.
        max_frames: keep at most this many moments (evenly chosen, always the last),
            so a long run still makes a short clip.

    Returns:
        A ``matplotlib.animation.FuncAnimation``; see :func:`to_jshtml` and
        :func:`save_gif` to turn it into something to show.
    """
    if max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {max_frames}")
    story = tell(run)
    stops = moments(run)
    if len(stops) > max_frames:
        every = len(stops) / max_frames
        stops = [stops[int(i * every)] for i in range(max_frames - 1)] + [stops[-1]]
    with style.styled():
        lanes = max(1, len(story.lanes))
        timeline_in = 0.45 * lanes + 0.6
        graph_in = 3.0
        width, height = 11.0, timeline_in + graph_in + 1.2
        figure = style.new_figure(width, height)
        names = max((len(n) for n in story.lanes), default=4)
        left = (0.25 + 0.075 * names) / width
        top_ax = figure.add_axes((left, (graph_in + 0.75) / height, 0.97 - left,
                                  timeline_in / height))
        top_ax.set_axis_off()
        draw_story(top_ax, story)
        style.title(top_ax, run_title(run))
        right = story.x(story.columns - 1) + 1.0 if story.columns else 1.0
        low, high = top_ax.get_ylim()
        veil = Rectangle((-1.0, low), right + 1.0, high - low, facecolor=style.FUTURE,
                         alpha=0.85, edgecolor="none", zorder=7)
        top_ax.add_patch(veil)
        now = top_ax.vlines([-1.0], low, high, colors=style.NOW, linewidth=1.6, zorder=8)
        graph_ax = figure.add_axes((0.03, 0.2 / height, 0.94, graph_in / height))
        caption = figure.text(0.03, (graph_in + 0.35) / height, "", fontsize=style.FONT_SIZE,
                              color=style.NOW, fontweight="bold", ha="left", va="center")

    def update(index: int) -> list[Any]:
        moment = stops[index]
        x = story.x_at(moment.time)
        veil.set_x(x)
        veil.set_width(max(0.0, right - x))
        now.set_segments([[(x, low), (x, high)]])
        caption.set_text(f"{style.format_time(moment.time)} · {moment.label}")
        with style.styled():
            graph_ax.clear()
            architecture_graph(run, at=moment.time, ax=graph_ax, title="")
        return [veil, now, caption, graph_ax]

    return FuncAnimation(figure, update, frames=len(stops) or 1, interval=interval,
                         blit=False, repeat=False)


def to_jshtml(run: Any, **options: Any) -> str:
    """The animation as self-contained HTML with play/step controls (no ffmpeg)."""
    animation = animate(run, **options)
    with style.styled():
        html: str = animation.to_jshtml(default_mode="once")
    return html


def save_gif(run: Any, path: str | Path, *, fps: int = 1, **options: Any) -> Path:
    """Write the animation as a GIF with Pillow (for slides and READMEs).

    Returns:
        The path written.
    """
    target = Path(path)
    animation = animate(run, **options)
    with style.styled():
        animation.save(str(target), writer=PillowWriter(fps=fps), dpi=style.DPI)
    return target
