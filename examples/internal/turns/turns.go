// Package turns holds what the tutorial's chat programs (examples/server, client,
// udpserver and udpclient) have in common: the operator's console, where a line is read
// after the prompt "-> ", and the two halves of a turn, Speak and Hear. Each program keeps
// its own loop, so the order of turns (the client speaks first, the server hears first)
// stays visible in its main.go.
package turns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/sockmsg/sockmsg"
)

// Prompt is the tutorial's input prompt: input("-> ").
const Prompt = "-> "

// MaxMessageSize is the tutorial's read size, conn.recv(1024*5): with Raw framing one
// read of up to this many bytes is one message.
const MaxMessageSize = 1024 * 5

// Console is the operator's side of a chat: lines typed (or piped) on standard input,
// the conversation on standard output, notes about the conversation on standard error.
type Console struct {
	// Peer names the other side in notes ("the client said goodbye"). Default: "the peer".
	Peer string

	in    *bufio.Reader
	out   io.Writer
	notes io.Writer
	echo  bool // standard input is not a terminal: show what was read after the prompt

	lines   chan string // filled by one reader goroutine, started by the first Ask
	readErr error       // why the input ended; set before lines is closed
	started bool
}

// NewConsole returns a console reading stdin and writing to stdout and stderr. When
// stdin is not a terminal (a pipe or a file), every line read is echoed after its
// prompt, so that the output reads as it would have at a terminal.
func NewConsole(stdin io.Reader, stdout, stderr io.Writer) *Console {
	return &Console{
		in:    bufio.NewReader(stdin),
		out:   stdout,
		notes: stderr,
		echo:  !isTerminal(stdin),
		lines: make(chan string),
	}
}

// isTerminal reports whether r is a character device, such as a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (c *Console) peer() string {
	if c.Peer == "" {
		return "the peer"
	}
	return c.Peer
}

// Notef writes a note about the conversation, on a line of its own, to standard error.
func (c *Console) Notef(format string, args ...any) {
	fmt.Fprintf(c.notes, format+"\n", args...)
}

// Ask writes prompt and returns the next line of input without its line ending. It
// returns io.EOF at the end of the input, and ctx's error if ctx ends first (Ctrl-C).
// Reading happens in a goroutine, so that Ask can give up on a terminal that is never
// going to answer; it reads one line ahead at most.
func (c *Console) Ask(ctx context.Context, prompt string) (string, error) {
	if !c.started {
		c.started = true
		go c.read()
	}
	fmt.Fprint(c.out, prompt) // os.Stdout is not buffered: the prompt shows at once
	select {
	case <-ctx.Done():
		fmt.Fprintln(c.out)
		return "", ctx.Err()
	case text, ok := <-c.lines:
		if !ok {
			fmt.Fprintln(c.out) // end the prompt's line
			return "", c.readErr
		}
		if c.echo {
			fmt.Fprintln(c.out, text)
		}
		return text, nil
	}
}

// read sends every line of input to c.lines, then closes it, leaving in c.readErr the
// error that ended the input (io.EOF at its end).
func (c *Console) read() {
	defer close(c.lines)
	for {
		text, err := c.in.ReadString('\n')
		if text != "" {
			// A last line without "\n" still counts.
			c.lines <- strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")
		}
		if err != nil {
			c.readErr = err
			return
		}
	}
}

// Speak is the operator's half of a turn: it asks for a line after the prompt and sends
// it. It reports over when the conversation has ended: the operator typed a close key or
// ended the input (Ctrl-D, the end of a pipe) or interrupted (Ctrl-C), and Speak said
// goodbye to the peer by sending the close key and closing. Empty lines are not sent.
func (c *Console) Speak(ctx context.Context, conv *sockmsg.Conversation) (over bool, err error) {
	for {
		text, err := c.Ask(ctx, Prompt)
		switch {
		case err == io.EOF:
			c.Notef("end of input: saying goodbye")
			return true, conv.Goodbye("")
		case ctx.Err() != nil:
			c.Notef("interrupted: saying goodbye")
			return true, conv.Goodbye("")
		case err != nil:
			return true, err
		case sockmsg.IsCloseKey(text):
			// Unlike the tutorial's client.py, tell the peer: send the key, then close.
			return true, conv.Goodbye(CloseKey(text))
		case text == "":
			continue // the tutorial's send(b"") sends nothing and the peer waits forever
		}
		err = conv.SendString(text)
		switch {
		case errors.Is(err, sockmsg.ErrInvalidMessage) || errors.Is(err, sockmsg.ErrMessageTooLarge):
			c.Notef("not sent: %v", err) // nothing went out: the operator may try again
			continue
		case reset(err):
			c.Notef("%s has gone (%v)", c.peer(), err)
			return true, nil
		}
		return err != nil, err
	}
}

// Hear is the peer's half of a turn: it waits for the peer's message and prints it after
// label ("SUNUCU > ", "CLIENT: "). It reports over when the peer said goodbye with a close
// key, left, or (over UDP) stayed silent past the listener's idle timeout, and when the operator interrupted the wait (Ctrl-C), in which case Hear
// says goodbye to the peer.
func (c *Console) Hear(ctx context.Context, conv *sockmsg.Conversation, label string) (over bool, err error) {
	msg, err := conv.RecvContext(ctx)
	var bye *sockmsg.CloseKeyError
	switch {
	case errors.As(err, &bye):
		c.Notef("%s said goodbye (%q)", c.peer(), bye.Text)
		return true, nil
	case err == io.EOF:
		c.Notef("%s left", c.peer())
		return true, nil
	case reset(err):
		c.Notef("%s has gone (%v)", c.peer(), err)
		return true, nil
	case errors.Is(err, sockmsg.ErrIdleTimeout):
		// UDP has no end of stream: a server's conversation whose peer is silent for
		// long (5 minutes by default) ends this way, as a vanished peer would.
		c.Notef("%s was silent for too long: %v", c.peer(), err)
		return true, nil
	case ctx.Err() != nil:
		c.Notef("interrupted: saying goodbye")
		return true, conv.Goodbye("")
	case err != nil:
		return true, err
	}
	fmt.Fprintf(c.out, "%s%s\n", label, msg)
	return false, nil
}

// reset reports whether err says the peer has gone without a goodbye: it closed before
// our last message reached it, and its system answered with a reset. That ends a chat as
// leaving does; it is no failure of this program.
func reset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// CloseKey returns the close key that text is, as the tutorial spells it ("exit" for
// " EXİT "), so that even the tutorial's server.py, which compares
// message.lower().strip() with its closeKeys, takes it as goodbye: Python lower-cases
// "İ" to "i̇", which is not "i". It returns text trimmed if it is no default key.
func CloseKey(text string) string {
	if key, ok := sockmsg.CloseKey(text); ok {
		return key
	}
	return strings.TrimSpace(text)
}
