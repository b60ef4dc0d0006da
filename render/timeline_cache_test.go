package render

import (
	"reflect"
	"testing"
	"time"

	"mimichat/content"
)

var keyPeople = &People{Me: "mimi://x/u/a"}

// fullMessage has every field of Message set; two calls give equal
// messages (the same People).
func fullMessage() Message {
	return Message{Kind: RowMessage, ID: content.MessageID{1}, Current: content.MessageID{2}, Sender: "mimi://x/u/a",
		Name: "Alice", Time: t0, Body: md("hi"), Languages: []string{"en", "fr"}, Edited: true, Deleted: true,
		Expired: true, Mention: true, DeletedBy: "Bob", ExpiresIn: 42 * time.Second,
		Quote: &Quote{State: QuoteKnown, Author: "Bob", Text: "earlier"}, Reactions: []Chip{{Key: "👍", Count: 2, Mine: true}},
		ThreadReplies: 3, ThreadLast: "Carol", ThreadLastTime: t0.Add(time.Hour), InThread: true,
		Delivery: DeliveryRead, ReadBy: 2, Err: "refused", Text: "text", People: keyPeople,
		Images: [MaxInlineImages]InlineImage{{State: ImageRefused, Mode: ImageBlocks, Note: "too big"}}, ImagesMore: 1, Continued: true, Layout: LayoutCompact}
}

// change sets v (a field of a Message copy) to a value that shows
// differently; ok is false for a type this test does not know.
func change(v reflect.Value) bool {
	switch x := v.Addr().Interface().(type) {
	case *string:
		*x += "x"
	case *bool:
		*x = !*x
	case *int:
		*x++
	case *RowKind:
		*x = RowKnock
	case *Delivery:
		*x = DeliveryFailed
	case *time.Duration:
		*x += time.Hour
	case *time.Time:
		*x = x.Add(time.Hour)
	case *content.MessageID:
		x[0] ^= 0xff
	case *[]string:
		*x = append(append([]string(nil), *x...), "de")
	case *[]Chip:
		*x = append(append([]Chip(nil), *x...), Chip{Key: "🎉", Count: 1})
	case **Quote:
		q := **x
		q.Text += "x"
		*x = &q
	case **People:
		*x = &People{Me: (*x).Me}
	case *Layout:
		*x = (*x + 1) % Layout(len(Layouts))
	case *InlineImage:
		x.Note += "x"
	case *[MaxInlineImages]InlineImage:
		x[MaxInlineImages-1].State = ImageLoading // the last one too is part of the key
	default:
		return false
	}
	return true
}

// TestRowKeyCoversMessage: every field of Message is part of the render
// cache's key (or listed in keyedBy with the key field that decides it),
// and changing any of them changes the key. A field added to Message
// without a key field fails here instead of showing stale rows.
func TestRowKeyCoversMessage(t *testing.T) {
	th := testTheme(t)
	mt, kt := reflect.TypeFor[Message](), reflect.TypeFor[rowKey]()
	base := fullMessage()
	k0 := keyOf(&base, 40, th)
	if again := fullMessage(); keyOf(&again, 40, th) != k0 {
		t.Fatal("two equal messages have different keys")
	}
	for i := range mt.NumField() {
		f := mt.Field(i)
		_, inKey := kt.FieldByName(f.Name)
		by, decided := keyedBy[f.Name]
		switch {
		case inKey && decided:
			t.Errorf("Message.%s is both in rowKey and in keyedBy", f.Name)
		case !inKey && !decided:
			t.Errorf("Message.%s is not part of the render cache key: add it to rowKey and keyOf (or to keyedBy)", f.Name)
		case decided:
			if _, ok := kt.FieldByName(by); !ok {
				t.Errorf("keyedBy[%s] = %s, which is not a field of rowKey", f.Name, by)
			}
			continue
		}
		m := fullMessage()
		if !change(reflect.ValueOf(&m).Elem().Field(i)) {
			t.Errorf("the test cannot change Message.%s (type %s): teach change", f.Name, f.Type)
			continue
		}
		if keyOf(&m, 40, th) == k0 {
			t.Errorf("changing Message.%s does not change the key", f.Name)
		}
	}
	// inside the values held by value: each chip's count and mark
	for _, edit := range []func(*Message){
		func(m *Message) { m.Reactions = []Chip{{Key: "👍", Count: 3, Mine: true}} },
		func(m *Message) { m.Reactions = []Chip{{Key: "👍", Count: 2}} },
		func(m *Message) { m.Quote = &Quote{State: QuoteDeleted, Author: "Bob", Text: "earlier"} },
		func(m *Message) { m.Quote = nil },
	} {
		m := fullMessage()
		edit(&m)
		if keyOf(&m, 40, th) == k0 {
			t.Errorf("a changed chip or quote keeps the key: %+v %+v", m.Reactions, m.Quote)
		}
	}
	// what is not shown does not miss the cache: the second within the
	// minute, another pointer to equal decorations
	m := fullMessage()
	m.Time = m.Time.Add(30 * time.Second)
	q := *m.Quote
	m.Quote = &q
	m.Reactions = append([]Chip(nil), m.Reactions...)
	if keyOf(&m, 40, th) != k0 {
		t.Errorf("an equal message in new memory, or seconds not shown, change the key:\n%+v\n%+v", keyOf(&m, 40, th), k0)
	}
}

// TestCacheKeepsRowsInUse: past its limit the cache turns its generations
// over instead of starting over, so rows used since the last turnover (the
// rows on screen) are still there; the size stays bounded.
func TestCacheKeepsRowsInUse(t *testing.T) {
	th, _ := NewTheme("dark", true, nil)
	c := NewCache(64)
	row := func(i int) *Message {
		return &Message{Kind: RowMessage, ID: content.MessageID{byte(i), byte(i >> 8), 1}, Current: content.MessageID{byte(i), byte(i >> 8), 2},
			Sender: "mimi://x/u/a", Name: "a", Body: md("row"), Time: t0}
	}
	hot := []int{0, 1, 2, 3, 4}
	for i := 0; i < 1000; i++ {
		c.Render(row(1000+i), 40, th) // scrolling through new rows
		for _, h := range hot {       // the rows on screen, drawn every frame
			miss := c.Miss
			c.Render(row(h), 40, th)
			if i > 0 && c.Miss != miss {
				t.Fatalf("after %d new rows a row on screen was rendered again", i)
			}
		}
		if c.Len() > 64 {
			t.Fatalf("%d rows cached, limit 64", c.Len())
		}
	}
}
