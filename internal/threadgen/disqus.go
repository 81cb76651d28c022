package threadgen

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// WriteDisqus writes a Disqus export of comments comments on threads threads, as a stream, and returns its
// size: every third comment answers the one before it; each has an author's e-mail and an IP address, as
// real exports do, for the importer to leave out. body is each comment's HTML.
func WriteDisqus(w io.Writer, threads, comments int, body string) (int64, error) {
	out := &countingWriter{w: bufio.NewWriterSize(w, 64<<10)}
	fmt.Fprint(out, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">`+"\n")
	for i := range threads {
		fmt.Fprintf(out, `<thread dsq:id="t%d"><id>article-%d</id><link>https://blog.example/%d</link><title>Article %d</title>`+
			`<createdAt>2020-01-01T00:00:00Z</createdAt></thread>`+"\n", i, i, i, i)
	}
	for i := range comments {
		parent := ""
		if i%3 == 2 {
			parent = fmt.Sprintf(`<parent dsq:id="p%d"/>`, i-1)
		}
		fmt.Fprintf(out, `<post dsq:id="p%d"><message><![CDATA[%s]]></message><createdAt>%s</createdAt>`+
			`<isDeleted>false</isDeleted><isSpam>false</isSpam><author><email>a%d@mail.example</email><name>Reader %d</name></author>`+
			`<ipAddress>192.0.2.1</ipAddress><thread dsq:id="t%d"/>%s</post>`+"\n",
			i, body, disqusEpoch.Add(time.Duration(i)*time.Second).Format("2006-01-02T15:04:05Z"), i%1000, i%1000, (i/3)%threads, parent)
	}
	fmt.Fprint(out, "</disqus>\n")
	if out.err != nil {
		return out.n, out.err
	}
	return out.n, out.w.(*bufio.Writer).Flush()
}

var disqusEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
